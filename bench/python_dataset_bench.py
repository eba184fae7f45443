#!/usr/bin/python3
# Copyright streamml authors. Licensed under the Apache License 2.0.
"""Python ingest throughput (issue 15): streamml.KafkaDataset iterated from
Python, against the C++ KafkaDataset (the same dataset drained by a C++ loop,
as bench/data_ingest_bench reads it) and against the loops a Python user
writes today with python3-confluent-kafka consume(500):
  confluent         numpy.fromstring per record, rows stacked into a
                    [n, 31] float32 array (the issue's baseline);
  confluent_float   float() per value of each record's split(","), rows
                    into one float32 array;
  confluent_joined  a careful variant: the batch's values joined and parsed
                    by one numpy.fromstring call.

Records: data_ingest_bench's, CSV of 30 "%.4f" features (normal, sd 10) and a
0/1 label (~240 B), 3 partitions, on an in-process embedded cluster
(streamml.EmbeddedCluster). As there, the embedded cluster keeps ~5 MiB per
partition, so records are produced in chunks that fit (untimed); each chunk
is read by every reader (the order rotates between chunks), each timed from
its first fetch to its last record. Batches of 1024 rows (the ingest
benchmark's). Rates: records / summed read time; medians over --runs.

  PYTHONPATH=build/python /usr/bin/python3 bench/python_dataset_bench.py [--records N] [--runs N]

Prints RESULT python_dataset key=value ... (bench/report.py).
"""
import argparse
import statistics
import time

import numpy as np
from confluent_kafka import Consumer, TopicPartition

import streamml

FEATURES = 30
PARTITIONS = 3
TOPIC = "ingest"
BATCH = 1024
CHUNK_BYTES_PER_PARTITION = 3_500_000


def make_rows(n):
    rng = np.random.default_rng(42)
    values = rng.normal(0.0, 10.0, size=(n, FEATURES))
    return [",".join("%.4f" % v for v in row) + ",%d" % (r % 2) for r, row in enumerate(values)]


def read_cpp(servers, ranges):
    ds = streamml._streamml._KafkaDataset({"ranges": ranges, "config": {"bootstrap.servers": servers},
                                           "decoder": "csv:columns=31,label=30", "batch_size": BATCH})
    t0 = time.perf_counter()
    rows, _ = ds._drain()
    seconds = time.perf_counter() - t0
    ds.close()
    return rows, seconds


def read_python(servers, ranges):
    ds = streamml.KafkaDataset(ranges, servers=servers, decoder="csv:columns=31,label=30", batch_size=BATCH)
    rows, checksum = 0, 0.0
    t0 = time.perf_counter()
    for batch in ds:
        features, labels = batch.features, batch.labels
        checksum += features[0, 0] + labels[-1, 0]
        rows += len(features)
    seconds = time.perf_counter() - t0
    ds.close()
    return rows, seconds


def decode_per_record(values):
    return np.stack([np.fromstring(v, dtype=np.float32, sep=",") for v in values])


def decode_floats(values):
    return np.array([[float(v) for v in value.split(b",")] for value in values], dtype=np.float32)


def decode_joined(values):
    return np.fromstring(b",".join(values), dtype=np.float32, sep=",").reshape(len(values), FEATURES + 1)


def read_confluent(servers, chunk, decode):
    consumer = Consumer({"bootstrap.servers": servers, "group.id": "py-ingest-confluent", "enable.auto.commit": False,
                         "fetch.wait.max.ms": 1, "auto.offset.reset": "error"})
    left = sum(end - start for start, end in chunk)
    rows, checksum = 0, 0.0
    t0 = time.perf_counter()
    consumer.assign([TopicPartition(TOPIC, p, start) for p, (start, _) in enumerate(chunk)])
    while left > 0:
        messages = consumer.consume(min(500, left), timeout=1.0)
        values = [m.value() for m in messages if m.error() is None]
        if not values:
            continue
        table = decode(values)
        features, labels = table[:, :FEATURES], table[:, FEATURES]
        checksum += features[0, 0] + labels[-1]
        rows += len(values)
        left -= len(values)
    seconds = time.perf_counter() - t0
    consumer.close()
    return rows, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=300_000, help="records per reader per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = make_rows(4096)
    avg_bytes = sum(len(r) for r in rows) / len(rows)
    per_chunk = min(int(CHUNK_BYTES_PER_PARTITION / (avg_bytes + 70)), args.records // PARTITIONS)
    readers = ["cpp", "python", "confluent", "confluent_float", "confluent_joined"]
    rates = {r: [] for r in readers}
    cpu = {r: [] for r in readers}
    with streamml.EmbeddedCluster(topics={TOPIC: PARTITIONS}) as cluster:
        servers = cluster.bootstrap_servers
        ends = [0] * PARTITIONS
        next_row = 0
        chunk_no = 0
        for run in range(args.runs):
            total = {r: [0, 0.0, 0.0] for r in readers}
            done = 0
            while done < args.records:
                n = min(per_chunk, (args.records - done) // PARTITIONS)
                chunk = []
                for p in range(PARTITIONS):
                    values = [rows[(next_row + i) % len(rows)] for i in range(n)]
                    next_row += n
                    placed = streamml.produce(TOPIC, values, servers=servers, partition=p)
                    chunk.append((placed[0][1], placed[-1][1] + 1))
                ranges = ["%s:%d:%d:%d" % (TOPIC, p, s, e - 1) for p, (s, e) in enumerate(chunk)]
                order = readers[chunk_no % len(readers):] + readers[:chunk_no % len(readers)]
                chunk_no += 1
                for reader in order:
                    cpu0 = time.process_time()
                    if reader == "cpp":
                        got, seconds = read_cpp(servers, ranges)
                    elif reader == "python":
                        got, seconds = read_python(servers, ranges)
                    elif reader == "confluent_float":
                        got, seconds = read_confluent(servers, chunk, decode_floats)
                    elif reader == "confluent":
                        got, seconds = read_confluent(servers, chunk, decode_per_record)
                    else:
                        got, seconds = read_confluent(servers, chunk, decode_joined)
                    if got != n * PARTITIONS:
                        raise SystemExit("%s read %d records, expected %d" % (reader, got, n * PARTITIONS))
                    total[reader][0] += got
                    total[reader][1] += seconds
                    total[reader][2] += time.process_time() - cpu0
                done += n * PARTITIONS
            for r in readers:
                rates[r].append(total[r][0] / total[r][1])
                cpu[r].append(total[r][2] / total[r][0] * 1e6)
            print("# run %d: %d records per reader: " % (run + 1, done) +
                  ", ".join("%s %.0f rec/s (%.2f us CPU/rec)" % (r, rates[r][-1], cpu[r][-1]) for r in readers),
                  flush=True)
    med = {r: statistics.median(v) for r, v in rates.items()}
    med_cpu = {r: statistics.median(v) for r, v in cpu.items()}
    print("RESULT python_dataset records=%d runs=%d record_bytes=%.0f batch=%d " % (args.records, args.runs, avg_bytes, BATCH) +
          " ".join("%s_rec_per_s=%.0f %s_cpu_us_per_rec=%.2f" % (r, med[r], r, med_cpu[r]) for r in readers) +
          " python_vs_cpp=%.3f python_vs_confluent=%.2f python_vs_confluent_float=%.2f python_vs_confluent_joined=%.2f"
          % (med["python"] / med["cpp"], med["python"] / med["confluent"], med["python"] / med["confluent_float"],
             med["python"] / med["confluent_joined"]))


if __name__ == "__main__":
    main()
