// An OCPP 1.6J charge point we did not write: the npm `ocpp-rpc` RPCClient in strict mode, which
// validates every CALL and CALLRESULT, both ways, against the OCPP 1.6 JSON schemas.
//
//   node charge_point.mjs <csms-url> <charge-point-id> <id-tag> [--timeout <seconds>]
//                         [--scenario core|replay]
//
// Runs a whole Core session against the CSMS at <csms-url> (the client appends "/<id>"), then
// stays connected and answers the Core commands the CSMS sends, until stdin closes or reads a
// line "quit". With `--scenario replay` the session is the one of a charge point whose
// connection drops after its StartTransaction: the answer is taken as lost, the charge point
// reconnects without a BootNotification (OCPP-J 5.4) and sends the StartTransaction again with
// the same payload (a new message id: the library numbers its messages), then charges and stops.
// Writes one JSON object per line to stdout:
//
//   {"action": A, "request": {...}, "response": {...}}   an answered request of ours
//   {"lost": A, "request": {...}, "response": {...}}     (replay) an answer taken as lost
//   {"reconnected": true}                                (replay) connected again, no boot
//   {"ready": true, "transactionId": N}                  the scripted session is over
//   {"command": A, "request": {...}, "response": {...}}  a request of the CSMS and our answer
//   {"error": "...", ...}                                any failure (then the exit code is 1)
//
// On top of strict mode, every date-time the CSMS sends must carry a time zone: ocpp-rpc 2.2.1
// validates "format": "date-time" with ajv-formats 2.1.1, which accepts "2024-01-01T00:00:00"
// (the missing zone slips through its check), while RFC 3339 and OCPP-J require one.
//
// Exit codes: 0 success; 1 a strict-mode validation failure (either direction), a bad message,
// a CALLERROR, a lost connection or any other error; 2 the watchdog timeout expired.

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import process from 'node:process';
import { RPCClient } from 'ocpp-rpc';

const usage = 'usage: node charge_point.mjs <csms-url> <charge-point-id> <id-tag> [--timeout <s>]';
const args = process.argv.slice(2);
let timeoutSeconds = 60;
const timeoutAt = args.indexOf('--timeout');
if (timeoutAt !== -1) {
    timeoutSeconds = Number(args[timeoutAt + 1]);
    args.splice(timeoutAt, 2);
}
let scenario = 'core';
const scenarioAt = args.indexOf('--scenario');
if (scenarioAt !== -1) {
    scenario = args[scenarioAt + 1];
    args.splice(scenarioAt, 2);
}
if (args.length !== 3 || !(timeoutSeconds > 0) || !['core', 'replay'].includes(scenario)) {
    process.stderr.write(`${usage}\n`);
    process.exit(64);
}
const [endpoint, identity, idTag] = args;

function emit(line) {
    process.stdout.write(`${JSON.stringify(line)}\n`);
}

let failed = false;
let finishing = false;
let reconnecting = false; // (replay) the connection is being dropped on purpose

function fail(error, extra = {}) {
    failed = true;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    emit({ error: message, rpcErrorCode: error?.rpcErrorCode, details: error?.details, ...extra });
    process.stderr.write(`charge_point.mjs: ${error?.stack ?? message}\n`);
}

// Never hang: whatever happens, the process ends within the timeout.
const watchdog = setTimeout(() => {
    fail(new Error(`watchdog: still running after ${timeoutSeconds} s`));
    process.exit(2);
}, timeoutSeconds * 1000);
watchdog.unref();

process.on('unhandledRejection', (error) => {
    fail(error, { where: 'unhandledRejection' });
    process.exit(1);
});
process.on('uncaughtException', (error) => {
    fail(error, { where: 'uncaughtException' });
    process.exit(1);
});

const client = new RPCClient({
    endpoint,
    identity,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: false,
    callTimeoutMs: 15000,
    respondWithDetailedErrors: true,
});

client.on('strictValidationFailure', (event) => {
    fail(event.error, {
        event: 'strictValidationFailure',
        method: event.method,
        outbound: event.outbound,
        isCall: event.isCall,
        params: event.params,
        result: event.result,
    });
});
client.on('badMessage', (event) => {
    fail(event.error, { event: 'badMessage', message: event.buffer?.toString() });
});
client.on('socketError', (error) => fail(error, { event: 'socketError' }));
client.on('disconnect', ({ code, reason }) => {
    if (!finishing && !reconnecting) {
        fail(new Error(`disconnected by the CSMS: ${code} ${reason}`), { event: 'disconnect' });
        process.exit(1);
    }
});

const now = () => new Date().toISOString();

// The names of the properties that the library's own OCPP 1.6 schemas declare as date-time.
const schemas = JSON.parse(
    readFileSync(new URL('./node_modules/ocpp-rpc/lib/schemas/ocpp1_6.json', import.meta.url)),
);
const dateTimeNames = new Set();
(function collect(node, name) {
    if (Array.isArray(node)) return node.forEach((item) => collect(item, name));
    if (!node || typeof node !== 'object') return;
    if (node.format === 'date-time') dateTimeNames.add(name);
    for (const [key, value] of Object.entries(node)) {
        if (key === 'properties') {
            for (const [property, schema] of Object.entries(value)) collect(schema, property);
        } else {
            collect(value, name);
        }
    }
})(schemas);
const RFC3339 = /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/;

// Every date-time in a payload from the CSMS; a bad one is reported like a strict-mode failure.
function checkDateTimes(method, payload, path = '') {
    if (!payload || typeof payload !== 'object') return;
    for (const [key, value] of Object.entries(payload)) {
        const where = `${path}/${key}`;
        if (dateTimeNames.has(key) && typeof value === 'string' && !RFC3339.test(value)) {
            const text = `${method}: ${where} ${JSON.stringify(value)} is not an RFC 3339 date-time`;
            fail(new Error(text), { event: 'dateTimeWithoutZone', method, payload });
        }
        checkDateTimes(method, value, where);
    }
}

// --- The charge point's state -------------------------------------------------------------

const NUMBER_OF_CONNECTORS = 2;
const connectors = new Map(); // connectorId -> {status, transactionId, idTag, meter}
for (let id = 0; id <= NUMBER_OF_CONNECTORS; id++) {
    connectors.set(id, { status: 'Available', transactionId: null, idTag: null, meter: 0 });
}
let meterWh = 1000; // one meter, shared by the connectors, like a cheap wallbox

const configuration = new Map([
    ['AllowOfflineTxForUnknownId', { value: 'false', readonly: false }],
    ['AuthorizationCacheEnabled', { value: 'true', readonly: false }],
    ['AuthorizeRemoteTxRequests', { value: 'false', readonly: false }],
    ['ClockAlignedDataInterval', { value: '0', readonly: false }],
    ['ConnectionTimeOut', { value: '60', readonly: false }],
    ['GetConfigurationMaxKeys', { value: '50', readonly: true }],
    ['HeartbeatInterval', { value: '300', readonly: false }],
    ['LocalAuthorizeOffline', { value: 'true', readonly: false }],
    ['LocalPreAuthorize', { value: 'false', readonly: false }],
    ['MeterValuesAlignedData', { value: 'Energy.Active.Import.Register', readonly: false }],
    [
        'MeterValuesSampledData',
        { value: 'Energy.Active.Import.Register,Current.Import,Voltage', readonly: false },
    ],
    ['MeterValueSampleInterval', { value: '60', readonly: false }],
    ['NumberOfConnectors', { value: String(NUMBER_OF_CONNECTORS), readonly: true }],
    ['ResetRetries', { value: '1', readonly: false }],
    ['ConnectorPhaseRotation', { value: '0.RST,1.RST,2.RST', readonly: false }],
    ['StopTransactionOnEVSideDisconnect', { value: 'true', readonly: false }],
    ['StopTransactionOnInvalidId', { value: 'true', readonly: false }],
    ['StopTxnAlignedData', { value: '', readonly: false }],
    ['StopTxnSampledData', { value: '', readonly: false }],
    ['SupportedFeatureProfiles', { value: 'Core', readonly: true }],
    ['TransactionMessageAttempts', { value: '3', readonly: false }],
    ['TransactionMessageRetryInterval', { value: '30', readonly: false }],
    ['UnlockConnectorOnEVSideDisconnect', { value: 'true', readonly: false }],
]);

// Our own requests, strictly one after the other (as OCPP-J requires of a charge point).
async function call(action, request) {
    const response = await client.call(action, request);
    emit({ action, request, response });
    checkDateTimes(action, response);
    return response;
}

async function status(connectorId, newStatus) {
    connectors.get(connectorId).status = newStatus;
    return call('StatusNotification', {
        connectorId,
        errorCode: 'NoError',
        status: newStatus,
        timestamp: now(),
    });
}

async function startTransaction(connectorId, tag) {
    const connector = connectors.get(connectorId);
    await status(connectorId, 'Preparing');
    const answer = await call('StartTransaction', {
        connectorId,
        idTag: tag,
        meterStart: meterWh,
        timestamp: now(),
    });
    if (answer.idTagInfo.status !== 'Accepted') {
        // A refused transaction is stopped at once (spec 4.8 / StopTransactionOnInvalidId).
        await call('StopTransaction', {
            transactionId: answer.transactionId,
            meterStop: meterWh,
            timestamp: now(),
            reason: 'DeAuthorized',
        });
        await status(connectorId, 'Finishing');
        await status(connectorId, 'Available');
        return answer;
    }
    Object.assign(connector, { transactionId: answer.transactionId, idTag: tag });
    await status(connectorId, 'Charging');
    return answer;
}

function sample(connectorId, transactionId, context) {
    meterWh += 1500;
    return call('MeterValues', {
        connectorId,
        transactionId,
        meterValue: [
            {
                timestamp: now(),
                sampledValue: [
                    {
                        value: String(meterWh),
                        context,
                        format: 'Raw',
                        measurand: 'Energy.Active.Import.Register',
                        location: 'Outlet',
                        unit: 'Wh',
                    },
                    {
                        value: '16.1',
                        context,
                        measurand: 'Current.Import',
                        phase: 'L1',
                        location: 'Outlet',
                        unit: 'A',
                    },
                    {
                        value: '230.4',
                        context,
                        measurand: 'Voltage',
                        phase: 'L1-N',
                        unit: 'V',
                    },
                    { value: '3.7', context, measurand: 'Power.Active.Import', unit: 'kW' },
                    { value: '57', context, measurand: 'SoC', location: 'EV', unit: 'Percent' },
                ],
            },
        ],
    });
}

async function stopTransaction(connectorId, reason, stopTag) {
    const connector = connectors.get(connectorId);
    const request = {
        transactionId: connector.transactionId,
        meterStop: meterWh,
        timestamp: now(),
        reason,
        transactionData: [
            {
                timestamp: now(),
                sampledValue: [
                    {
                        value: String(meterWh),
                        context: 'Transaction.End',
                        measurand: 'Energy.Active.Import.Register',
                        unit: 'Wh',
                    },
                ],
            },
        ],
    };
    if (stopTag) request.idTag = stopTag;
    const answer = await call('StopTransaction', request);
    Object.assign(connector, { transactionId: null, idTag: null });
    await status(connectorId, 'Finishing');
    await status(connectorId, 'Available');
    return answer;
}

// After the CALLRESULT of a command has gone out, do what a charge point does next.
function afterAnswer(work) {
    setImmediate(() => work().catch((error) => fail(error, { where: 'after a command' })));
}

// --- Answers to the CSMS's Core commands ------------------------------------------------------

const handlers = {
    Reset: ({ params }) => {
        // A real charge point would now stop its transactions and reboot; this one only agrees,
        // so that the session (and the test driving it) carries on.
        return { status: params.type === 'Hard' || params.type === 'Soft' ? 'Accepted' : 'Rejected' };
    },
    ChangeConfiguration: ({ params }) => {
        const entry = configuration.get(params.key);
        if (!entry) return { status: 'NotSupported' };
        if (entry.readonly) return { status: 'Rejected' };
        if (/Interval|TimeOut|Retries|Attempts/.test(params.key) && !/^\d+$/.test(params.value)) {
            return { status: 'Rejected' };
        }
        entry.value = params.value;
        return { status: 'Accepted' };
    },
    GetConfiguration: ({ params }) => {
        const keys = params.key?.length ? params.key : [...configuration.keys()];
        const configurationKey = [];
        const unknownKey = [];
        for (const key of keys) {
            const entry = configuration.get(key);
            if (entry) configurationKey.push({ key, readonly: entry.readonly, value: entry.value });
            else unknownKey.push(key);
        }
        const answer = { configurationKey };
        if (unknownKey.length) answer.unknownKey = unknownKey;
        return answer;
    },
    ChangeAvailability: ({ params }) => {
        const ids = params.connectorId === 0 ? [...connectors.keys()] : [params.connectorId];
        if (!ids.every((id) => connectors.has(id))) return { status: 'Rejected' };
        if (ids.some((id) => connectors.get(id).transactionId !== null)) {
            return { status: 'Scheduled' };
        }
        const newStatus = params.type === 'Inoperative' ? 'Unavailable' : 'Available';
        afterAnswer(async () => {
            for (const id of ids) {
                if (connectors.get(id).status !== newStatus) await status(id, newStatus);
            }
        });
        return { status: 'Accepted' };
    },
    ClearCache: () => ({ status: 'Accepted' }),
    RemoteStartTransaction: ({ params }) => {
        const connectorId = params.connectorId ?? 1;
        const connector = connectors.get(connectorId);
        if (!connector || connectorId === 0) return { status: 'Rejected' };
        if (connector.status !== 'Available' || connector.transactionId !== null) {
            return { status: 'Rejected' };
        }
        afterAnswer(async () => {
            const answer = await startTransaction(connectorId, params.idTag);
            if (answer.idTagInfo.status === 'Accepted') {
                await sample(connectorId, answer.transactionId, 'Sample.Periodic');
            }
        });
        return { status: 'Accepted' };
    },
    RemoteStopTransaction: ({ params }) => {
        const entry = [...connectors.entries()].find(
            ([, c]) => c.transactionId === params.transactionId,
        );
        if (!entry) return { status: 'Rejected' };
        afterAnswer(() => stopTransaction(entry[0], 'Remote'));
        return { status: 'Accepted' };
    },
    UnlockConnector: ({ params }) => {
        const connector = connectors.get(params.connectorId);
        if (!connector || params.connectorId === 0) return { status: 'NotSupported' };
        if (connector.transactionId !== null) {
            // Spec 5.18: unlocking a connector with a transaction stops it first.
            afterAnswer(() => stopTransaction(params.connectorId, 'UnlockCommand'));
        }
        return { status: 'Unlocked' };
    },
    DataTransfer: ({ params }) => {
        if (params.vendorId !== 'org.example.interop') return { status: 'UnknownVendorId' };
        if (params.messageId !== 'Echo') return { status: 'UnknownMessageId' };
        return { status: 'Accepted', data: params.data ?? '' };
    },
};

for (const [command, handler] of Object.entries(handlers)) {
    client.handle(command, async (call) => {
        checkDateTimes(command, call.params);
        const response = await handler(call);
        emit({ command, request: call.params, response });
        return response;
    });
}
client.handle(({ method, params }) => {
    // Anything outside Core: say so, and mark the run as failed, since the test sends only Core.
    fail(new Error(`unexpected command ${method}`), { command: method, request: params });
    const error = new Error(`${method} is not implemented by this charge point`);
    error.rpcErrorCode = 'NotImplemented';
    throw error;
});

// --- The scripted sessions --------------------------------------------------------------------

async function session() {
    await client.connect();
    if (client.protocol !== 'ocpp1.6') throw new Error(`negotiated ${client.protocol}`);
    if (scenario === 'replay') return replaySession();

    await boot();
    await call('Heartbeat', {});
    for (let id = 0; id <= NUMBER_OF_CONNECTORS; id++) await status(id, 'Available');

    const authorize = await call('Authorize', { idTag });
    if (authorize.idTagInfo.status !== 'Accepted') {
        throw new Error(`Authorize ${authorize.idTagInfo.status}`);
    }
    const start = await startTransaction(1, idTag);
    if (start.idTagInfo.status !== 'Accepted') {
        throw new Error(`StartTransaction ${start.idTagInfo.status}`);
    }
    await sample(1, start.transactionId, 'Sample.Periodic');
    await sample(1, start.transactionId, 'Sample.Periodic');
    await stopTransaction(1, 'Local', idTag);
    await call('DataTransfer', {
        vendorId: 'com.unknown.vendor',
        messageId: 'Hello',
        data: 'interop',
    });
    emit({ ready: true, transactionId: start.transactionId });
}

async function boot() {
    const answer = await call('BootNotification', {
        chargePointVendor: 'ocpp-rpc',
        chargePointModel: 'Interop-Node',
        chargePointSerialNumber: `SN-${identity}`,
        firmwareVersion: '2.2.1',
        meterType: 'Interop Meter',
    });
    if (answer.status !== 'Accepted') throw new Error(`BootNotification ${answer.status}`);
}

// The connection drops after StartTransaction.req went out: its answer is lost. The charge
// point connects again (no BootNotification) and sends the same StartTransaction.req again.
async function replaySession() {
    await boot();
    for (let id = 0; id <= NUMBER_OF_CONNECTORS; id++) await status(id, 'Available');
    const authorize = await call('Authorize', { idTag });
    if (authorize.idTagInfo.status !== 'Accepted') {
        throw new Error(`Authorize ${authorize.idTagInfo.status}`);
    }
    await status(1, 'Preparing');
    const request = { connectorId: 1, idTag, meterStart: meterWh, timestamp: now() };
    const lost = await client.call('StartTransaction', request);
    emit({ lost: 'StartTransaction', request, response: lost });

    reconnecting = true;
    await client.close({ code: 1001, reason: 'connection lost' });
    await client.connect();
    reconnecting = false;
    if (client.protocol !== 'ocpp1.6') throw new Error(`negotiated ${client.protocol}`);
    emit({ reconnected: true });

    const start = await call('StartTransaction', request);
    if (start.idTagInfo.status !== 'Accepted') {
        throw new Error(`StartTransaction ${start.idTagInfo.status}`);
    }
    Object.assign(connectors.get(1), { transactionId: start.transactionId, idTag });
    await status(1, 'Charging');
    await sample(1, start.transactionId, 'Sample.Periodic');
    await stopTransaction(1, 'Local', idTag);
    emit({ ready: true, transactionId: start.transactionId });
}

let sessionDone = Promise.resolve();

async function finish(code) {
    if (finishing) return;
    await sessionDone; // stdin closing early does not cut the scripted session short
    if (finishing) return;
    finishing = true;
    try {
        await client.close({ code: 1000, reason: 'done', awaitPending: true });
    } catch (error) {
        fail(error, { where: 'close' });
    }
    process.exit(failed ? 1 : code);
}

const stdin = createInterface({ input: process.stdin });
stdin.on('line', (line) => {
    if (line.trim() === 'quit') finish(0);
});
stdin.on('close', () => finish(0));

sessionDone = session().catch((error) => {
    fail(error, { where: 'session' });
    finish(1);
});
