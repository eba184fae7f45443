# Copyright streamml authors. Licensed under the Apache License 2.0.
"""streamml.torch.KafkaIterableDataset with torch.utils.data.DataLoader:
batches as tensors without copying, the worker split (every record once),
group members, and a training loop that learns."""
import collections

import pytest
import torch
from torch.utils.data import DataLoader

import streamml
from streamml.torch import KafkaIterableDataset

CSV = "csv:features=0..1,label=2"


@pytest.fixture(scope="module")
def records(kafka):
    """1000 records over 5 partitions: "i,partition,label"."""
    topic = kafka.topic("torch", partitions=5)
    for p in range(5):
        kafka.produce(topic, ["%d,%d,%d" % (i, p, i % 2) for i in range(p, 1000, 5)], partition=p)
    return topic


def ids(batches):
    return [int(v) for x, _ in batches for v in x[:, 0]]


def test_yields_tensors_that_share_the_batch_memory(kafka, records):
    ds = KafkaIterableDataset([records + ":0"], servers=kafka.bootstrap_servers, decoder=CSV, batch_size=64)
    batches = list(DataLoader(ds, batch_size=None))
    x, y = batches[0]
    assert x.dtype == torch.float32 and x.shape == (64, 2) and y.shape == (64, 1)
    assert sorted(ids(batches)) == list(range(0, 1000, 5))
    # torch.from_numpy: the tensor is a view of the batch's rows (no copy).
    inner = streamml.KafkaDataset([records + ":0"], servers=kafka.bootstrap_servers, decoder=CSV).next()
    t = torch.from_numpy(inner.features)
    assert t.data_ptr() == inner.features.__array_interface__["data"][0]


@pytest.mark.parametrize("workers", [0, 1, 2, 3, 7])
def test_workers_read_disjoint_partitions_every_record_once(kafka, records, workers):
    ds = KafkaIterableDataset([records], servers=kafka.bootstrap_servers, decoder=CSV, batch_size=50)
    for epoch in range(2):
        got = ids(DataLoader(ds, batch_size=None, num_workers=workers))
        assert sorted(got) == list(range(1000)), (workers, epoch)


def test_ranges_are_resolved_once_for_every_worker_and_epoch(kafka):
    topic = kafka.topic("grow", partitions=2)
    for p in range(2):
        kafka.produce(topic, ["%d,0,0" % i for i in range(p, 20, 2)], partition=p)
    ds = KafkaIterableDataset([topic + ":0:0:-1", topic + ":1:2:-1"], servers=kafka.bootstrap_servers, decoder=CSV)
    kafka.produce(topic, ["99,0,0"], partition=0)  # after the dataset was made
    expected = sorted(list(range(0, 20, 2)) + list(range(5, 20, 2)))
    assert sorted(ids(DataLoader(ds, batch_size=None, num_workers=2))) == expected
    assert sorted(ids(DataLoader(ds, batch_size=None))) == expected


def test_group_workers_are_members_of_the_group(kafka, records, group):
    ds = KafkaIterableDataset(group=group, topics=[records], servers=kafka.bootstrap_servers, decoder=CSV,
                              batch_size=100, stream_timeout_ms=4000, config={"auto.offset.reset": "earliest"})
    got = ids(DataLoader(ds, batch_size=None, num_workers=2))
    counts = collections.Counter(got)
    assert set(counts) == set(range(1000))
    # Committed on the way. At-least-once: when one worker leaves, the group
    # rebalances and may refuse another's last commit (those records come
    # again), so a new member reads few records again, never all of them.
    again = streamml.KafkaDataset(group=group, topics=[records], servers=kafka.bootstrap_servers,
                                  stream_timeout_ms=3000)
    assert sum(b.size for b in again) < 1000


def test_a_training_loop_learns_from_kafka(kafka):
    topic = kafka.topic("learn", partitions=2)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2000, 2, generator=g) * 2 - 1
    y = (x[:, 0] + x[:, 1] > 0).long()
    kafka.produce(topic, ["%f,%f,%d" % (a, b, c) for (a, b), c in zip(x.tolist(), y.tolist())])
    ds = KafkaIterableDataset([topic], servers=kafka.bootstrap_servers, decoder=CSV, batch_size=64,
                              shuffle_buffer=500)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(5):
        for features, labels in DataLoader(ds, batch_size=None, num_workers=2):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(features), labels[:, 0].long())
            loss.backward()
            opt.step()
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    assert accuracy > 0.9
