"""Reading ``/metrics`` as a Prometheus server would: the text format parsed by prometheus-client's parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Sample = tuple[str, frozenset[tuple[str, str]]]


def scrape(http: httpx.Client, **headers: str) -> dict[Sample, float]:
    """Every sample of ``GET /metrics``, by name and labels."""
    response = http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests_counted(samples: dict[Sample, float], **labels: str) -> float:
    """The requests counted with these labels (the other labels any), summed."""
    wanted = set(labels.items())
    return sum(value for (name, found), value in samples.items()
               if name == "zstack_mock_requests_total" and wanted <= found)


def jobs(samples: dict[Sample, float]) -> dict[str, float]:
    return {dict(labels)["state"]: value for (name, labels), value in samples.items() if name == "zstack_mock_jobs"}
