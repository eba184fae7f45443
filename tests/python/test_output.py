# Copyright streamml authors. Licensed under the Apache License 2.0.
"""streamml.OutputSequence (TensorFlow I/O's KafkaOutputSequence shape) and
PredictionWriter, the per-batch helper of a prediction loop."""
import numpy as np
import pytest

import streamml


def read(kafka, topic):
    ds = streamml.KafkaDataset([topic], servers=kafka.bootstrap_servers, batch_size=100)
    return [(m.key, p) for b in ds for m, p in zip(b.meta, b.payloads)]


def test_output_sequence_writes_in_index_order_binary_safe(kafka):
    # TF I/O test_kafka_output_sequence: setitem in any order, flush, read back in order.
    topic = kafka.topic("out")
    values = [b"D%d\x00\xff" % i for i in range(10)]
    seq = streamml.OutputSequence(topic, servers=kafka.bootstrap_servers)
    for i in [3, 1, 0, 2, 9, 5, 4, 7, 6]:
        seq.setitem(i, values[i])
    result = seq.flush()
    assert result["written"] == 8 and result["held"] == 1 and result["next_index"] == 8
    seq[8] = values[8]
    assert seq.flush()["delivered"] == 10
    with pytest.raises(streamml.InputError, match="3"):
        seq.setitem(3, b"again")
    seq.close()
    assert [p for _, p in read(kafka, topic)] == values


def test_prediction_writer_writes_one_record_per_row_keyed_like_the_input(kafka):
    source = kafka.topic("in")
    kafka.produce(source, ["%d,%d,0" % (i, i) for i in range(7)], partition=0, keys=["k%d" % i for i in range(7)])
    out = kafka.topic("preds")
    ds = streamml.KafkaDataset([source], servers=kafka.bootstrap_servers, decoder="csv:features=0..1,label=2",
                               batch_size=3)
    with streamml.OutputSequence(out, servers=kafka.bootstrap_servers) as seq:
        write = streamml.PredictionWriter(seq)
        for batch in ds:
            write(batch.features.sum(axis=1), batch)  # a "model"
    got = read(kafka, out)
    assert got == [(b"k%d" % i, b"%d" % (2 * i)) for i in range(7)]
    with streamml.OutputSequence(out, servers=kafka.bootstrap_servers, first_index=0) as seq:
        streamml.PredictionWriter(seq)(np.array([[0.25, 0.75]]))
    assert read(kafka, out)[-1] == (None, b"0.25,0.75")
