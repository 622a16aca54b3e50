# The CSMS as a container image (README "Deployment"). Two stages: a build stage makes the
# wheel and installs it with its dependencies into a virtual environment; the runtime stage
# copies only that environment and runs it as an unprivileged user.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/csms && /opt/csms/bin/pip install --no-cache-dir .

FROM python:3.12-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/csms --create-home csms
COPY --from=build /opt/csms /opt/csms
ENV PATH=/opt/csms/bin:$PATH \
    CSMS_HOST=0.0.0.0 \
    CSMS_DATABASE=sqlite+aiosqlite:////var/lib/csms/csms.db \
    CSMS_DATA_DIR=/var/lib/csms/data
# The SQLite file and the firmware/diagnostics files (not needed for the database with
# PostgreSQL, CSMS_DATABASE=postgresql+asyncpg://...).
VOLUME /var/lib/csms
WORKDIR /var/lib/csms
USER csms
# OCPP WebSocket, operator API and console, diagnostics FTP.
EXPOSE 9000 8080 2121
# GET /health on the API port: the process answers (see the API's health endpoints).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4).status != 200)"]
ENTRYPOINT ["csms"]
CMD ["serve"]
