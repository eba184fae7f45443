# Copyright streamml authors. Licensed under the Apache License 2.0.
"""streamml.KafkaDataset: options, zero-copy batches, metadata, state, and
TensorFlow I/O's Kafka test cases (tests/test_kafka.py there) ported."""
import base64
import json
import struct

import numpy as np
import pytest

import streamml

CSV = "csv:features=0..2,label=3"


def payloads(ds):
    return [p.decode() for batch in ds for p in batch.payloads]


@pytest.fixture(scope="module")
def d_topic(kafka):
    """TensorFlow I/O's topic "test": D0..D9 in partition 0."""
    topic = kafka.topic("test")
    kafka.produce(topic, ["D%d" % i for i in range(10)], partition=0)
    return topic


def test_ranges_alone_and_together_for_ten_epochs(kafka, d_topic):
    # TF I/O: KafkaDataset(["test:0:0:4"]), (["test:0:5:-1"]), both, repeat(10), batch(5).
    cases = {
        (d_topic + ":0:0:4",): ["D%d" % i for i in range(5)],
        (d_topic + ":0:5:-1",): ["D%d" % i for i in range(5, 10)],
        (d_topic + ":0:0:4", d_topic + ":0:5:-1"): ["D%d" % i for i in range(10)],
    }
    for ranges, expected in cases.items():
        with streamml.KafkaDataset(list(ranges), servers=kafka.bootstrap_servers, batch_size=5) as ds:
            for epoch in range(10):
                batches = list(ds)
                assert all(b.size == 5 for b in batches)
                assert [p.decode() for b in batches for p in b.payloads] == expected, (ranges, epoch)
        # The same with the C++ repeat option: one epoch of 10 passes.
        with streamml.KafkaDataset(list(ranges), servers=kafka.bootstrap_servers, batch_size=5, repeat=10) as ds:
            assert payloads(ds) == expected * 10


def test_features_and_labels_are_numpy_views_without_copy(kafka):
    topic = kafka.topic("csv")
    rows = [[i, i * 0.5, -i, i % 2] for i in range(100)]
    kafka.produce(topic, [",".join(str(v) for v in r) for r in rows], partition=0)
    ds = streamml.KafkaDataset([topic], servers=kafka.bootstrap_servers, decoder=CSV, batch_size=32)
    assert (ds.num_features, ds.num_labels) == (3, 1)
    batches = list(ds)
    assert [b.size for b in batches] == [32, 32, 32, 4]
    features = np.concatenate([b.features for b in batches])
    labels = np.concatenate([b.labels for b in batches])
    assert features.dtype == np.float32 and features.shape == (100, 3)
    assert labels.dtype == np.float32 and labels.shape == (100, 1)
    np.testing.assert_array_equal(features, np.array(rows, dtype=np.float32)[:, :3])
    np.testing.assert_array_equal(labels[:, 0], np.array(rows, dtype=np.float32)[:, 3])
    batch = batches[0]
    a, b = batch.features, batch.features
    assert a.__array_interface__["data"][0] == b.__array_interface__["data"][0], "both views of the same memory"
    a[0, 0] = 42.0
    assert b[0, 0] == 42.0
    assert batch.payloads == [], "no payloads with a decoder unless asked"
    view = batches[1].features
    del batches, batch
    assert view.shape == (32, 3) and view[0, 0] == 32.0, "a view keeps its batch alive"


def test_meta_and_payloads_when_asked(kafka):
    topic = kafka.topic("meta", partitions=2)
    kafka.produce(topic, ["1,2,3,0", "4,5,6,1"], partition=1, keys=[b"k\x00a", None])
    ds = streamml.KafkaDataset([topic + ":1"], servers=kafka.bootstrap_servers, decoder=CSV, keep_payloads=True)
    (batch,) = list(ds)
    assert batch.payloads == [b"1,2,3,0", b"4,5,6,1"]
    first, second = batch.meta
    assert (first.topic, first.partition, first.offset, first.key) == (topic, 1, 0, b"k\x00a")
    assert (second.offset, second.key) == (1, None)
    assert first.timestamp > 1_600_000_000_000
    assert first.headers == []


def test_binary_payloads_without_decoder(kafka):
    topic = kafka.topic("bin")
    values = [bytes([0, 255, 10, 13, i]) for i in range(7)]
    kafka.produce(topic, values, partition=0)
    ds = streamml.KafkaDataset([topic], servers=kafka.bootstrap_servers, batch_size=3)
    got = [p for b in ds for p in b.payloads]
    assert got == values
    assert list(ds)[0].features.shape == (3, 0)


def test_options_pass_through(kafka):
    topic = kafka.topic("opts")
    kafka.produce(topic, ["%d,0,0,%d" % (i, i % 2) for i in range(50)], partition=0)
    servers = kafka.bootstrap_servers

    def firsts(**options):
        ds = streamml.KafkaDataset([topic], servers=servers, decoder=CSV, **options)
        return [int(v) for b in ds for v in b.features[:, 0]]

    assert firsts(batch_size=7, take=10) == list(range(10))
    assert firsts(batch_size=7, drop_remainder=True) == list(range(49))
    assert firsts(repeat=2, batch_size=50) == list(range(50)) * 2
    shuffled = firsts(shuffle_buffer=20, seed=3)
    assert sorted(shuffled) == list(range(50)) and shuffled != list(range(50))
    assert firsts(shuffle_buffer=20, seed=3) == shuffled, "the same seed, the same order"
    assert firsts(decode_threads=0, prefetch=1, read_ahead_bytes=1000) == list(range(50))
    # librdkafka properties go through config=.
    assert firsts(config={"fetch.max.bytes": 2000000, "socket.nagle.disable": True}) == list(range(50))


def test_bad_options_are_clear_errors(kafka):
    servers = kafka.bootstrap_servers
    with pytest.raises(streamml.ConfigError, match="no.such.property"):
        streamml.KafkaDataset(["x"], servers=servers, config={"no.such.property": 1})
    with pytest.raises(streamml.ConfigError, match="decoder"):
        streamml.KafkaDataset(["x"], servers=servers, decoder="csv:bogus=1")
    with pytest.raises(streamml.ConfigError, match="batch_size"):
        streamml.KafkaDataset(["x"], servers=servers, batch_size=0)
    with pytest.raises(streamml.ConfigError, match="not both"):
        streamml.KafkaDataset(["x"], group="g", topics=["x"], servers=servers)
    with pytest.raises(ValueError):  # ConfigError is a ValueError
        streamml.KafkaDataset(group="g", servers=servers)
    topic = kafka.topic("short")
    kafka.produce(topic, ["a"], partition=0)
    with pytest.raises(streamml.InputError, match="asks for"):
        streamml.KafkaDataset([topic + ":0:0:100"], servers=servers)


def test_bad_records_skip_fail_and_dead_letter(kafka):
    topic = kafka.topic("bad")
    dead = kafka.topic("dead")
    kafka.produce(topic, ["1,2,3,0", "oops", "4,5,6,1"], partition=0)
    servers = kafka.bootstrap_servers
    with pytest.raises(streamml.InputError, match=topic + ":0:1"):
        list(streamml.KafkaDataset([topic], servers=servers, decoder=CSV))
    ds = streamml.KafkaDataset([topic], servers=servers, decoder=CSV, bad_records="skip")
    assert sum(b.size for b in ds) == 2
    assert ds.report()["count"] == 1 and ds.report()["examples"][0][0] == topic + ":0:1"
    ds = streamml.KafkaDataset([topic], servers=servers, decoder=CSV, bad_records="dead-letter",
                               dead_letter_topic=dead)
    assert sum(b.size for b in ds) == 2
    ds.close()  # flushes the dead letters
    letters = streamml.KafkaDataset([dead], servers=servers)
    assert payloads(letters) == ["oops"]


def test_state_restore_and_reset(kafka):
    topic = kafka.topic("state")
    kafka.produce(topic, ["D%d" % i for i in range(20)], partition=0)
    ds = streamml.KafkaDataset([topic], servers=kafka.bootstrap_servers, batch_size=4)
    first = ds.next()
    assert [p.decode() for p in first.payloads] == ["D0", "D1", "D2", "D3"]
    state = ds.state()
    rest = [p.decode() for b in iter(ds.next, None) for p in b.payloads]
    assert rest == ["D%d" % i for i in range(4, 20)]
    again = streamml.KafkaDataset([topic], servers=kafka.bootstrap_servers, batch_size=4)
    again.restore(state)
    assert [p.decode() for b in iter(again.next, None) for p in b.payloads] == rest
    ds.reset()
    assert payloads(ds) == ["D%d" % i for i in range(20)]
    with pytest.raises(streamml.ConfigError, match="cannot restore"):
        ds.restore("nonsense")


def test_group_reads_ten_then_none_then_only_the_new_records(kafka, group):
    # TF I/O test_kafka_group_io_dataset_primary_cg{,_no_lag,_new_topic}.
    topic = kafka.topic("group")
    kafka.produce(topic, ["D%d" % i for i in range(10)], partition=0)
    servers = kafka.bootstrap_servers
    options = dict(group=group, topics=[topic], servers=servers, stream_timeout_ms=3000,
                   config={"auto.offset.reset": "earliest"})
    ds = streamml.KafkaDataset(**options)
    assert payloads(ds) == ["D%d" % i for i in range(10)]
    ds.commit()
    assert ds.positions() == [(topic, 0, 10)]
    ds.close()
    with streamml.KafkaDataset(**options) as ds:
        assert payloads(ds) == []
    kafka.produce(topic, ["D%d" % i for i in range(10, 15)], partition=0)
    with streamml.KafkaDataset(**options) as ds:
        assert payloads(ds) == ["D%d" % i for i in range(10, 15)]
        ds.commit()
        with pytest.raises(streamml.ConfigError, match="no epochs"):
            ds.reset()


def test_auto_offset_reset_earliest_and_latest(kafka, group):
    # TF I/O test_kafka_group_io_dataset_auto_offset_reset.
    topic = kafka.topic("reset")
    kafka.produce(topic, ["D%d" % i for i in range(10)], partition=0)
    servers = kafka.bootstrap_servers
    earliest = streamml.KafkaDataset(group=group + "-e", topics=[topic], servers=servers, stream_timeout_ms=3000,
                                     config={"auto.offset.reset": "earliest"})
    assert payloads(earliest) == ["D%d" % i for i in range(10)]
    latest = streamml.KafkaDataset(group=group + "-l", topics=[topic], servers=servers, stream_timeout_ms=3000,
                                   config={"auto.offset.reset": "latest"})
    assert payloads(latest) == []


def test_stream_timeout_ends_a_group_stream(kafka, group):
    # TF I/O test_kafka_group_io_dataset_stream_timeout_check: stream_timeout
    # ends the stream after the last record instead of waiting forever.
    topic = kafka.topic("timeout")
    kafka.produce(topic, ["D%d" % i for i in range(3)], partition=0)
    ds = streamml.KafkaDataset(group=group, topics=[topic], servers=kafka.bootstrap_servers, stream_timeout_ms=1000,
                               config={"auto.offset.reset": "earliest"}, batch_size=2, batch_wait_ms=200)
    assert payloads(ds) == ["D0", "D1", "D2"]
    assert ds.next() is None, "a stream that timed out stays ended"
    with pytest.raises(streamml.ConfigError, match="stream_timeout"):
        streamml.KafkaDataset(group=group, topics=[topic], servers=kafka.bootstrap_servers, stream_timeout_ms=-20)


def avro_float(value):
    return struct.pack("<f", value)


def test_confluent_framed_avro(kafka):
    # TF I/O test_avro_encode_decode / decode_avro with a Confluent-framed topic.
    schema = {"type": "record", "name": "row", "fields": [
        {"name": "x", "type": "float"}, {"name": "n", "type": "long"}, {"name": "y", "type": "double"}]}
    schema64 = base64.urlsafe_b64encode(json.dumps(schema).encode()).decode().rstrip("=")

    def zigzag(n):
        n = (n << 1) ^ (n >> 63)
        out = b""
        while n & ~0x7F:
            out += bytes([(n & 0x7F) | 0x80])
            n >>= 7
        return out + bytes([n])

    records = [b"\x00" + struct.pack(">I", 7) + avro_float(i * 1.5) + zigzag(-i) + struct.pack("<d", i % 2)
               for i in range(10)]
    topic = kafka.topic("avro")
    kafka.produce(topic, records, partition=0)
    decoder = "avro:schema64=%s,confluent,schema_id=7,features=x+n,label=y" % schema64
    ds = streamml.KafkaDataset([topic], servers=kafka.bootstrap_servers, decoder=decoder, batch_size=4)
    features = np.concatenate([b.features for b in ds])
    labels = np.concatenate([b.labels for b in ds])
    np.testing.assert_array_equal(features, np.array([[i * 1.5, -i] for i in range(10)], dtype=np.float32))
    np.testing.assert_array_equal(labels[:, 0], np.array([i % 2 for i in range(10)], dtype=np.float32))
    kafka.produce(topic, [b"\x00" + struct.pack(">I", 8) + records[0][5:]], partition=0)
    with pytest.raises(streamml.InputError, match="schema id|schema_id"):
        list(streamml.KafkaDataset([topic], servers=kafka.bootstrap_servers, decoder=decoder))


def test_wait_for_records_waits_for_offsets_not_produced_yet(kafka):
    import threading

    topic = kafka.topic("wait")
    kafka.produce(topic, ["D%d" % i for i in range(5)], partition=0)
    later = threading.Timer(1.0, lambda: kafka.produce(topic, ["D%d" % i for i in range(5, 10)], partition=0))
    later.start()
    try:
        ds = streamml.KafkaDataset([topic + ":0:0:9"], servers=kafka.bootstrap_servers, wait_for_records=True,
                                   message_poll_timeout_ms=50, on_data_loss="fail")
        assert payloads(ds) == ["D%d" % i for i in range(10)]
    finally:
        later.join()
    with pytest.raises(streamml.ConfigError, match="on_data_loss"):
        streamml.KafkaDataset([topic], servers=kafka.bootstrap_servers, on_data_loss="ignore")
    with pytest.raises(streamml.ConfigError, match="no option 'colour'"):
        streamml._streamml._KafkaDataset({"ranges": [topic], "colour": "red"})


def test_resolve_ranges_gives_exclusive_ends_and_empty_partitions(kafka):
    topic = kafka.topic("resolve", partitions=2)
    kafka.produce(topic, [b"1,0", b"2,1", b"3,0"], partition=0)
    resolved = sorted(streamml.resolve_ranges([topic + ":0", topic + ":1", topic + ":0:1:1"],
                                              servers=kafka.bootstrap_servers))
    assert resolved == [(topic, 0, 0, 3), (topic, 0, 1, 2), (topic, 1, 0, 0)]
