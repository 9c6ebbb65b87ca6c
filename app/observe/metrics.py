"""A server's Prometheus metrics, in a registry of its own (several servers may share a process).

Every label has a bounded set of values, whatever clients send: the operation is an API name or a
route template (never a raw path), the method one of the HTTP methods or ``other``, the fault
``rule`` or ``scenario:<name>`` from the server's catalogue (rule ids and names stay in the journal
and the log), the status one the server sent. So a public sandbox's metrics hold counts only, of
every visitor together, and their size does not grow with what visitors do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

METRICS_PATH = "/metrics"
#: Seconds; a create answers in about a millisecond, a fault may add up to an hour of latency.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0)
NO_FAULT = "none"
NO_OPERATION = "unmatched"
#: The operation label of an RPC call whose message names no API zstack-mock serves.
UNKNOWN_API = "unknown"
#: The status label of a request that got no answer (the client left, a wire fault cut it).
NO_STATUS = "none"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in _METHODS else "other"


def fault_label(fault: str | None) -> str:
    """``rule:<id>`` counts as ``rule``: ids grow with every rule a test suite adds."""
    if fault is None:
        return NO_FAULT
    return "rule" if fault.startswith("rule:") else fault


#: Set by ``share_between_processes``: where every process of the server writes its counts.
_SHARED_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


def share_between_processes(directory: str) -> None:
    """Count in files in ``directory`` that every process of one server writes, so that ``/metrics``
    answers for all of them (prometheus-client's multiprocess mode). Before any metric is made; the
    processes forked afterwards inherit it."""
    os.environ[_SHARED_DIRECTORY] = directory
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def forget_process(pid: int) -> None:
    """A process of the server has gone: its counts stay, its gauges (if any had one) go."""
    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class ServerMetrics:
    def __init__(self, job_counts: Callable[[], Mapping[str, int]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "zstack_mock_requests", "Requests answered, by method, operation, status and the fault fired.",
            ("method", "operation", "status", "fault"), registry=self.registry,
        )
        self._latency = Histogram(
            "zstack_mock_request_duration_seconds", "Seconds from a request's arrival to the end of its answer.",
            ("operation",), buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.registry.register(JobsCollector(job_counts))
        #: What a scrape reads: this registry, or with several processes every process's counts.
        self.exposed = self.registry
        if os.environ.get(_SHARED_DIRECTORY):
            self.exposed = CollectorRegistry(auto_describe=True)
            multiprocess.MultiProcessCollector(self.exposed)  # type: ignore[no-untyped-call]
            self.exposed.register(JobsCollector(job_counts))
        #: The labelled children by label values: one dict lookup a request, not prometheus_client's lock.
        self._children: dict[tuple[str, str, str, str], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, operation: str, status: str, fault: str, seconds: float) -> None:
        key = (method, operation, status, fault)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self._requests.labels(*key), self._latency.labels(operation))
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The metrics and their content type: Prometheus's text format 0.0.4, or what ``accept`` asks
        for among those prometheus-client writes (OpenMetrics, text 1.0.0)."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.exposed), content_type


class JobsCollector(Collector):
    """``zstack_mock_jobs{state}``: the API jobs the stores hold, read at each scrape."""

    def __init__(self, job_counts: Callable[[], Mapping[str, int]]) -> None:
        self._job_counts = job_counts

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "zstack_mock_jobs", "API jobs kept, by state (Running, Succeeded, Failed).", labels=("state",)
        )
        for state, count in self._job_counts().items():
            family.add_metric((state,), count)
        yield family

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("zstack_mock_jobs", "API jobs kept, by state.", labels=("state",))
