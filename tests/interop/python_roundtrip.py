#!/usr/bin/python3
# Copyright streamml authors. Licensed under the Apache License 2.0.
#
# confluent_kafka (librdkafka's Python client) and streamml interoperate:
#  1. a Python producer writes keyed records with headers; `streamml consume`
#     prints exactly those, at the partitions/offsets the delivery reports gave;
#  2. `streamml produce` writes lines; a Python consumer reads exactly those;
#  3. offsets committed by `streamml consume -G` are the group's committed
#     offsets as seen by a Python consumer of the same group.
# Starts `streamml broker` unless STREAMML_TEST_BOOTSTRAP names a broker.
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from confluent_kafka import Consumer, Producer, TopicPartition

STREAMML = os.environ.get("STREAMML")


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def unique(name):
    return "interop-py-%s-%d-%d" % (name, os.getpid(), random.randrange(100000))


def run(args, stdin=None):
    return run_both(args, stdin)[0]


def run_both(args, stdin=None):
    """stdout (data) and stderr (status) of a successful run."""
    proc = subprocess.run([STREAMML] + args, input=stdin, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        fail("streamml %s exited %d: %s" % (" ".join(args), proc.returncode, proc.stderr.strip()))
    return proc.stdout, proc.stderr


class Broker:
    """`streamml broker` in the background, or the external broker."""

    def __init__(self, topics):
        self.proc = None
        self.workdir = tempfile.mkdtemp(prefix="streamml-interop-py.")
        external = os.environ.get("STREAMML_TEST_BOOTSTRAP", "")
        if external:
            self.bootstrap = external
            for name, partitions in topics:
                run(["topics", "create", "-b", external, "-p", str(partitions), name])
            return
        bootstrap_file = os.path.join(self.workdir, "bootstrap")
        args = [STREAMML, "broker", "--bootstrap-file", bootstrap_file]
        for name, partitions in topics:
            args += ["--topic", "%s:%d" % (name, partitions)]
        self.stderr = open(os.path.join(self.workdir, "broker.err"), "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.time() + 60
        while time.time() < deadline:
            if os.path.exists(bootstrap_file) and os.path.getsize(bootstrap_file) > 0:
                break
            if self.proc.poll() is not None:
                fail("streamml broker exited early: " + open(self.stderr.name).read())
            time.sleep(0.1)
        else:
            fail("streamml broker did not write its bootstrap file within 60 s")
        with open(bootstrap_file) as f:
            self.bootstrap = f.readline().strip()

    def close(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.stderr.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def python_to_streamml(bootstrap, topic):
    reports = {}

    def on_delivery(err, msg):
        if err is not None:
            fail("python delivery failed: %s" % err)
        reports[msg.value().decode()] = (msg.partition(), msg.offset())

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    expected = set()
    for i in range(400):
        key, value = "key%d" % (i % 23), "value-%d" % i
        producer.produce(topic, key=key, value=value, headers=[("lang", b"python")], on_delivery=on_delivery)
        producer.poll(0)
    if producer.flush(30) != 0:
        fail("python producer could not flush")
    for value, (partition, offset) in reports.items():
        i = int(value.split("-")[1])
        expected.add("%d\t%d\tkey%d\t%s\tlang=python" % (partition, offset, i % 23, value))
    if len(expected) != 400:
        fail("expected 400 delivery reports, got %d" % len(expected))

    out = run(["consume", "-b", bootstrap, "-e", "-f", "%p\\t%o\\t%k\\t%s\\t%h\\n", topic])
    got = out.splitlines()
    if len(got) != len(set(got)):
        fail("streamml consume printed duplicates")
    if set(got) != expected:
        missing = sorted(expected - set(got))[:5]
        extra = sorted(set(got) - expected)[:5]
        fail("python -> streamml mismatch: missing %s, unexpected %s" % (missing, extra))
    print("ok: 400 records from confluent_kafka read back by streamml at the same partition/offset")


def read_all_python(bootstrap, topic, partitions, extra=None):
    config = {"bootstrap.servers": bootstrap, "group.id": unique("reader"), "enable.auto.commit": False,
              "fetch.wait.max.ms": 10, "enable.partition.eof": True}
    config.update(extra or {})
    consumer = Consumer(config)
    consumer.assign([TopicPartition(topic, p, -2) for p in range(partitions)])  # -2: beginning
    records, at_end = [], set()
    deadline = time.time() + 60
    while len(at_end) < partitions and time.time() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == -191:  # _PARTITION_EOF
                at_end.add(msg.partition())
                continue
            fail("python consumer: %s" % msg.error())
        records.append(msg)
    consumer.close()
    if len(at_end) < partitions:
        fail("python consumer did not reach the end of %s within 60 s" % topic)
    return records


def streamml_to_python(bootstrap, topic):
    lines = ["k%d=v%d" % (i, i) for i in range(300)]
    out, status = run_both(["produce", "-b", bootstrap, "-t", topic, "-K", "=", "-H", "from=streamml"],
                           stdin="\n".join(lines) + "\n")
    # Status on stderr, nothing on stdout (as kcat).
    if "delivered 300 of 300" not in status or out:
        fail("streamml produce: stdout %r, stderr %r" % (out, status))
    records = read_all_python(bootstrap, topic, 2)
    got = ["%s=%s" % (m.key().decode(), m.value().decode()) for m in records]
    if sorted(got) != sorted(lines):
        fail("streamml -> python mismatch: %d records, first differences %s" %
             (len(got), sorted(set(lines) ^ set(got))[:5]))
    for m in records:
        if m.headers() != [("from", b"streamml")]:
            fail("python saw headers %r" % (m.headers(),))
    print("ok: 300 records from streamml read back by confluent_kafka")


def committed_offsets(bootstrap, topic):
    group = unique("group")
    out = run(["consume", "-b", bootstrap, "-G", group, "-e", "-f", "%p %o\\n", topic])
    printed = {}
    for line in out.splitlines():
        partition, offset = map(int, line.split())
        printed[partition] = max(printed.get(partition, -1), offset)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    committed = consumer.committed([TopicPartition(topic, p) for p in range(2)], timeout=20)
    low_high = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in range(2)]
    consumer.close()
    for tp in committed:
        high = low_high[tp.partition][1]
        if tp.offset != high:
            fail("group %s partition %d: committed %d, expected the high watermark %d" %
                 (group, tp.partition, tp.offset, high))
        if printed.get(tp.partition, -1) + 1 != tp.offset:
            fail("committed offset %d does not follow the last printed offset %d" %
                 (tp.offset, printed.get(tp.partition, -1)))
    print("ok: offsets committed by streamml consume -G are the group's offsets for confluent_kafka")


def main():
    if not STREAMML:
        fail("set STREAMML to the streamml binary")
    t_in, t_out = unique("in"), unique("out")
    broker = Broker([(t_in, 3), (t_out, 2)])
    try:
        python_to_streamml(broker.bootstrap, t_in)
        streamml_to_python(broker.bootstrap, t_out)
        committed_offsets(broker.bootstrap, t_out)
    finally:
        broker.close()


if __name__ == "__main__":
    main()
