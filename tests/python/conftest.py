# Copyright streamml authors. Licensed under the Apache License 2.0.
"""pytest fixtures of the Python module's tests: an in-process embedded
cluster (streamml.EmbeddedCluster), or the broker in
STREAMML_TEST_BOOTSTRAP=host:port. Run by ctest (label interop) with
PYTHONPATH=<build>/python; by hand:
  PYTHONPATH=build/python STREAMML=build/bin/streamml /usr/bin/python3 -m pytest tests/python
"""
import os
import uuid

import pytest

import streamml


class Kafka:
    def __init__(self, bootstrap_servers, cluster=None):
        self.bootstrap_servers = bootstrap_servers
        self.cluster = cluster

    def topic(self, name="t", partitions=1):
        """A new topic with a unique name."""
        topic = "py-%s-%s" % (name, uuid.uuid4().hex[:10])
        streamml.create_topic(topic, partitions, servers=self.bootstrap_servers)
        return topic

    def produce(self, topic, values, partition=-1, keys=None):
        return streamml.produce(topic, values, servers=self.bootstrap_servers, partition=partition, keys=keys)


@pytest.fixture(scope="session")
def kafka():
    external = os.environ.get("STREAMML_TEST_BOOTSTRAP")
    if external:
        yield Kafka(external)
        return
    with streamml.EmbeddedCluster(brokers=1) as cluster:
        yield Kafka(cluster.bootstrap_servers, cluster)


@pytest.fixture
def group():
    return "py-group-" + uuid.uuid4().hex[:10]
