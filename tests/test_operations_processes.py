"""Operating gunicorn as deploy/ runs it (issue 23): two workers write their metrics into
PROMETHEUS_MULTIPROC_DIR and a scrape, whichever worker answers it, counts the requests of
both; every line on gunicorn's stdout and stderr (its own and the application's) is JSON;
/readyz answers."""

from __future__ import annotations

import json
import re

import pytest

from tests.live_servers import free_port, get, gunicorn, live_database_url, production_env

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-" + "s" * 40


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = production_env(
        live_database_url(tmp_path),
        HUB_TRUSTED_PROXIES="0",
        HUB_METRICS="1",
        HUB_METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        DJANGO_LOG_LEVEL="INFO",
    )
    process = gunicorn("gunicorn", port, env, tmp_path, "--workers", "2", "--threads", "2")
    try:
        process.start()
        process.wait_ready(port)
        yield port, process
    finally:
        process.stop()


def _scraped_healthz_count(port: int) -> float:
    status, _, content = get(port, "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, content
    pattern = re.compile(r"^hub_http_requests_total\{([^}]*)\} ([0-9.e+]+)$", re.M)
    return sum(
        float(value)
        for labels, value in pattern.findall(content.decode())
        if 'route="healthz"' in labels and 'status_class="2xx"' in labels
    )


def _lines(process) -> list[dict]:
    return [json.loads(line) for line in process.log().splitlines() if line.strip()]


def test_metrics_add_up_every_worker_and_every_line_is_json(server):
    port, process = server
    served_by: set[int] = set()
    sent = 0
    # New connections until both workers have answered some (the accept race decides).
    while len(served_by) < 2 and sent < 400:
        for _ in range(20):
            assert get(port, "/healthz")[0] == 200
            sent += 1
        served_by = {
            line["process"]
            for line in _lines(process)
            if line.get("logger") == "hub.request" and line["route"] == "healthz"
        }
    assert len(served_by) == 2, "one worker answered everything: nothing to add up"
    readiness_probes = 1  # wait_ready's successful /healthz
    # Two scrapes (either worker may answer each): both count every worker's requests.
    assert _scraped_healthz_count(port) == sent + readiness_probes
    assert _scraped_healthz_count(port) == sent + readiness_probes

    status, _, content = get(port, "/readyz")
    assert status == 200, content
    assert json.loads(content)["status"] == "ok"
    assert get(port, "/metrics")[0] == 403  # no token

    lines = _lines(process)  # json.loads raised on any line that is not JSON
    loggers = {line["logger"] for line in lines}
    assert {"gunicorn.error", "hub.request"} <= loggers, loggers
    assert all(line.get("logger") != "gunicorn.access" for line in lines)
