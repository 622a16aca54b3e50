"""Core profile, vendor-specific data: OCTT TC_064 (test-case document 3.20.1; spec 4.3
DataTransfer)."""

from __future__ import annotations

from csms.simulator import SimulatedChargePoint
from tests.conformance.octt import Wire, no_unsolicited_calls
from tests.harness import Harness


async def test_tc_064_data_transfer_to_a_central_system(
    harness: Harness, cp: SimulatedChargePoint
) -> None:
    """TC_064_CSMS (3.20.1): DataTransfer with a vendorId the CSMS does not support. The tool
    takes Rejected, UnknownMessageId or UnknownVendorId (Accepted only with a warning); spec 4.3
    wants UnknownVendorId and no data for an unknown vendor."""
    assert "org.octt.unsupported" not in harness.app.services.data_transfer
    wire = Wire(cp)
    answer = await cp.data_transfer("org.octt.unsupported", "OcttMessage", "payload")
    assert answer["status"] in {"Rejected", "UnknownMessageId", "UnknownVendorId"}
    assert answer == {"status": "UnknownVendorId"}
    assert wire.calls() == ["CP→ DataTransfer"]
    await no_unsolicited_calls(cp)
