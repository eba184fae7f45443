# Copyright streamml authors. Licensed under the Apache License 2.0.
"""streamml for Python: Kafka records as NumPy batches, predictions back to
Kafka, and model files that round-trip with PyTorch. The C++ core
(_streamml) does the work; this module is the Pythonic surface.

    import streamml
    with streamml.EmbeddedCluster(topics={"train": 1}) as kafka:
        ds = streamml.KafkaDataset(["train:0:0:-1"], servers=kafka.bootstrap_servers,
                                   decoder="csv:features=4,label=last", batch_size=64)
        for batch in ds:
            batch.features  # float32 [n, 4], no copy
            batch.labels    # float32 [n, 1]

See docs/python.md.
"""
import collections
import os
import re

import numpy as np

from . import _streamml
from ._streamml import Batch, ConfigError, DataLossError, Error, InputError, KafkaError

__all__ = [
    "Batch", "ConfigError", "DataLossError", "EmbeddedCluster", "Error", "InputError", "KafkaDataset",
    "KafkaError", "Model", "OutputSequence", "PredictionWriter", "RecordMeta", "create_topic", "export",
    "import_torchscript", "produce", "resolve_ranges",
]

RecordMeta = collections.namedtuple("RecordMeta", "topic partition offset key timestamp headers")
RecordMeta.__doc__ = """Where a record came from: topic, partition, offset, key (bytes or None),
timestamp (ms since the epoch, -1 when none) and headers [(name, bytes or None)]."""


def _config(servers, config):
    out = dict(config or {})
    if servers is not None:
        out["bootstrap.servers"] = servers
    return out


class KafkaDataset:
    """Decoded, batched Kafka records: the C++ KafkaDataset (data/kafka_dataset.h).

    Exactly one source:
      ranges=["topic[:partition[:start[:end]]]", ...]  bounded, end inclusive, -1 = the
          high watermark when opened; every iteration (epoch) replays the same records.
      group="id", topics=[...]  a consumer group: a stream; call commit() after the step
          that used the batches (at-least-once). auto.offset.reset (in config) decides
          where a new group starts.

    Iterating yields streamml.Batch objects: .features float32 [n, f] and .labels float32
    [n, l] are NumPy views of the C++ batch (no copy); .meta gives topic, partition,
    offset, key, timestamp, headers per row; .payloads the record values as bytes
    (always without a decoder, or with keep_payloads=True).

    Options (the C++ KafkaDatasetOptions): servers (bootstrap.servers), config (librdkafka
    properties), decoder (docs/decoders.md; None: payloads only), batch_size,
    drop_remainder, repeat, take, shuffle_buffer, seed, stream_timeout_ms (group: stop
    after this long without a record; -1 never), batch_wait_ms (group: close a batch this
    long after its first record), message_poll_timeout_ms, prefetch, read_ahead_bytes,
    decode_threads, wait_for_records, bad_records ("fail", "skip", "dead-letter"),
    dead_letter_topic, on_data_loss ("report", "fail"), keep_payloads.

    Ctrl-C while waiting for a batch raises KeyboardInterrupt within about 0.1 s; the
    dataset stays usable. Use it from one thread; close() (or `with`) releases it.
    """

    def __init__(self, ranges=None, *, group=None, topics=None, servers=None, config=None, decoder=None,
                 batch_size=32, drop_remainder=False, repeat=1, take=-1, shuffle_buffer=0, seed=0,
                 stream_timeout_ms=-1, batch_wait_ms=-1, message_poll_timeout_ms=100, prefetch=16,
                 read_ahead_bytes=16 << 20, decode_threads=-1, wait_for_records=False, bad_records="fail",
                 dead_letter_topic=None, on_data_loss="report", keep_payloads=False):
        if isinstance(ranges, str):
            ranges = [ranges]
        if isinstance(topics, str):
            topics = [topics]
        if bool(ranges) == bool(group):
            raise ConfigError("KafkaDataset needs ranges=[...] or group=... with topics=[...], not both")
        if group and not topics:
            raise ConfigError("KafkaDataset: group '%s' needs topics=[...]" % group)
        self.options = dict(
            ranges=list(ranges or []), group=group or "", topics=list(topics or []),
            config=_config(servers, config), decoder=decoder or "", batch_size=batch_size,
            drop_remainder=drop_remainder, repeat=repeat, take=take, shuffle_buffer=shuffle_buffer, seed=seed,
            stream_timeout_ms=stream_timeout_ms, batch_wait_ms=batch_wait_ms,
            message_poll_timeout_ms=message_poll_timeout_ms, prefetch=prefetch, read_ahead_bytes=read_ahead_bytes,
            decode_threads=decode_threads, wait_for_records=wait_for_records, bad_records=bad_records,
            dead_letter_topic=dead_letter_topic or "", on_data_loss=on_data_loss, keep_payloads=keep_payloads)
        self._ds = _streamml._KafkaDataset(self.options)
        self._iterated = False

    @property
    def is_group(self):
        return bool(self.options["group"])

    def __iter__(self):
        # A bounded dataset starts a new epoch with every iteration after the first.
        if self._iterated and not self.is_group:
            self._ds.reset()
        self._iterated = True
        return self._batches()

    def _batches(self):
        ds = self._ds
        while True:
            batch = ds.next()
            if batch is None:
                return
            yield batch

    def next(self):
        """The next batch, or None at the end of the epoch or stream."""
        self._iterated = True
        return self._ds.next()

    def reset(self):
        """Bounded: the next epoch starts (the same records). Group: ConfigError."""
        self._ds.reset()
        self._iterated = False

    def commit(self):
        """Group: commits the offsets of every record returned so far. Bounded: no-op."""
        self._ds.commit()

    def state(self):
        """The position after the last returned batch, as text (for checkpoints)."""
        return self._ds.state()

    def restore(self, state):
        """Resumes after the records a state() covered: nothing repeated, nothing skipped."""
        self._ds.restore(state)
        self._iterated = False

    def interrupt(self):
        """Ends iteration for good (any thread)."""
        self._ds.interrupt()

    def close(self):
        self._ds.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def num_features(self):
        return self._ds.num_features()

    @property
    def num_labels(self):
        return self._ds.num_labels()

    @property
    def feature_names(self):
        return self._ds.feature_names()

    @property
    def decoder_spec(self):
        return self._ds.decoder_spec()

    def resolved_ranges(self):
        """The ranges as opened: "topic:partition:[start,end)"."""
        return self._ds.resolved_ranges()

    def positions(self):
        """[(topic, partition, next offset)] after the records returned so far."""
        return self._ds.positions()

    def report(self):
        """Bad records: {"count", "examples": [(location, reason)], "summary"}."""
        return self._ds.report()

    @property
    def records_returned(self):
        return self._ds.records_returned()

    @property
    def lost_records(self):
        return self._ds.lost_records()


# ResolvedRange::to_string(): inclusive "t:0:5..9", or "t:0:empty@5".
_RESOLVED = re.compile(r"^(.*):(\d+):(\d+)\.\.(\d+)$")
_RESOLVED_EMPTY = re.compile(r"^(.*):(\d+):empty@(\d+)$")


def resolve_ranges(ranges, servers=None, config=None):
    """The range specs as explicit [(topic, partition, start, end_exclusive)], resolved
    against the cluster now (-1/end becomes the high watermark)."""
    ds = _streamml._KafkaDataset({"ranges": list(ranges), "config": _config(servers, config)})
    try:
        out = []
        for text in ds.resolved_ranges():
            m = _RESOLVED.match(text)
            if m:
                out.append((m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)) + 1))
                continue
            m = _RESOLVED_EMPTY.match(text)
            if not m:
                raise Error("unexpected resolved range '%s'" % text)
            out.append((m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(3))))
        return out
    finally:
        ds.close()


class OutputSequence:
    """Writes values to a topic in index order, as TensorFlow I/O's KafkaOutputSequence:
    setitem(index, value) (or seq[index] = value) in any order; an item is written once
    every lower index was. Values are bytes (binary-safe) or str. flush() waits for
    delivery and returns {"written", "delivered", "held", "next_index"}."""

    def __init__(self, topic, servers=None, config=None, partition=-1, first_index=0, produce_timeout_ms=30000):
        self.topic = topic
        self._seq = _streamml._OutputSequence(topic, _config(servers, config), partition, first_index,
                                              produce_timeout_ms)

    def setitem(self, index, value, key=None, headers=None, partition=-1):
        self._seq.set(index, value, key, headers, partition)

    __setitem__ = setitem

    def flush(self, timeout_ms=10000):
        return self._seq.flush(timeout_ms)

    @property
    def next_index(self):
        return self._seq.next_index()

    def close(self):
        self._seq.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.flush()
        self.close()


class PredictionWriter:
    """What a prediction loop calls per batch, the counterpart of TensorFlow I/O's Keras
    output callback: writes one record per row of `predictions` to an OutputSequence,
    in order, at consecutive indexes. A row becomes `format(row)` (default: numbers
    joined by commas), keyed like its input record when the batch is given."""

    def __init__(self, sequence, format=None):
        self.sequence = sequence
        self.index = sequence.next_index
        self.format = format or _format_row

    def __call__(self, predictions, batch=None):
        meta = batch.meta if batch is not None else None
        for i, row in enumerate(predictions):
            key = meta[i].key if meta is not None else None
            self.sequence.setitem(self.index, self.format(row), key=key)
            self.index += 1

    def flush(self, timeout_ms=10000):
        return self.sequence.flush(timeout_ms)


def _format_row(row):
    try:
        values = [float(v) for v in row]
    except TypeError:
        values = [float(row)]
    return ",".join(repr(v) if not v.is_integer() else str(int(v)) for v in values)


class EmbeddedCluster:
    """An in-process Kafka cluster on loopback (librdkafka's mock cluster; see the README's
    limits), for notebooks and tests. topics={name: partitions} are created at start.

        with streamml.EmbeddedCluster(brokers=1, topics={"t": 2}) as kafka:
            kafka.bootstrap_servers
    """

    def __init__(self, brokers=1, topics=None):
        self._cluster = _streamml._EmbeddedCluster(brokers)
        self.bootstrap_servers = self._cluster.bootstrap_servers()
        for name, partitions in (topics or {}).items():
            self.create_topic(name, partitions)

    def create_topic(self, name, partitions=1):
        self._cluster.create_topic(name, partitions)

    def stop(self):
        self._cluster.close()

    close = stop

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def create_topic(name, partitions=1, servers=None, config=None, replication_factor=1):
    """Creates a topic on any cluster (an embedded one of this process too)."""
    _streamml._create_topic(name, partitions, _config(servers, config), replication_factor)


def produce(topic, values, servers=None, config=None, partition=-1, keys=None):
    """Writes values (bytes or str) to a topic and waits for delivery;
    returns [(partition, offset)] per value."""
    return _streamml._produce(topic, list(values), _config(servers, config), partition, keys)


class Model:
    """A streamml model file (.smlm): Model.load(path), .predict(x), .metadata."""

    def __init__(self, impl):
        self._model = impl

    @staticmethod
    def load(path):
        return Model(_streamml._Model.load(os.fspath(path)))

    def predict(self, x):
        """Predictions for float rows [n, num_features] (or one row): P(class 1) [n]
        (binary), probabilities [n, K] (multiclass), values [n] (regression)."""
        return self._model.predict(_rows(x))[0]

    def predict_classes(self, x):
        """The predicted class per row [n] (classification)."""
        classes = self._model.predict(_rows(x))[1]
        if classes is None:
            raise ConfigError("a regression model predicts values, not classes")
        return classes

    @property
    def metadata(self):
        """task, kind, decoder_spec, num_features, feature_names, standardize, offsets
        [(topic, partition, next offset)], extra (free-form metadata), ..."""
        return self._model.metadata()

    def summary(self):
        return self._model.summary()

    def save(self, path):
        self._model.save(os.fspath(path))

    def export(self, path):
        """Writes TorchScript that torch.jit.load opens (see streamml.export)."""
        self._model.export(os.fspath(path))


def _rows(x):
    x = np.asarray(x, dtype=np.float32)
    return x[None, :] if x.ndim == 1 else x


def export(model, path):
    """Writes a streamml model (a Model or a .smlm path) as a TorchScript file that plain
    torch.jit.load opens. forward(x_raw) includes streamml's standardisation and returns
    the network's output: logits (classification, probabilities are their softmax/sigmoid)
    or values (regression)."""
    if not isinstance(model, Model):
        model = Model.load(model)
    model.export(path)


def import_torchscript(path, decoder, task, out=None):
    """A TorchScript file (torch.jit.save) as a servable streamml Model, with no training:
    `decoder` describes its input records, `task` is "binary", "multiclass:K" or
    "regression". Saves it to `out` (.smlm) when given."""
    model = Model(_streamml._import_torchscript(os.fspath(path), decoder, task))
    if out is not None:
        model.save(out)
    return model
