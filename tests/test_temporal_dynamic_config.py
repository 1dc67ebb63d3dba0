"""Every task queue that runs at its rate limit for long has one partition, so its limit is met
rather than split over Temporal's default four (flightdeck.temporal.SINGLE_PARTITION): in the
deployment's dynamic config (`deploy/temporal/dynamicconfig.yaml`, mounted by docker-compose),
and in `bench/sync_set.py`'s dev server (flags, which cannot name a queue: every queue)."""

from __future__ import annotations

from pathlib import Path

import yaml

from flightdeck.settings import Settings
from flightdeck.temporal import SINGLE_PARTITION, partition_flags
from flightdeck.worker import rate_limited_queues

ROOT = Path(__file__).resolve().parents[1]


def test_every_rate_limited_queue_has_one_partition_in_the_deployment() -> None:
    config = yaml.safe_load((ROOT / "deploy/temporal/dynamicconfig.yaml").read_text())
    queues = rate_limited_queues(Settings())
    assert {"reddit", "reddit-creative", "google", "google-creative", "meta-sets"} <= set(queues)
    assert "strategis" not in queues  # the publish queues keep the default (see the module)
    for key in SINGLE_PARTITION:
        single = {
            rule["constraints"]["taskQueueName"] for rule in config[key] if rule["value"] == 1
        }
        assert set(queues) <= single, f"{key}: {sorted(set(queues) - single)} missing"


def test_the_compose_server_reads_that_config() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    temporal = compose["services"]["temporal"]
    path = temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    assert any(
        v.startswith("./deploy/temporal/dynamicconfig.yaml:") and v.split(":")[1] == path
        for v in temporal["volumes"]
    )


def test_the_benchmarks_dev_server_gives_every_queue_one_partition() -> None:
    assert partition_flags() == [
        "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
        "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
    ]  # fmt: skip
