#!/usr/bin/python3
# Copyright streamml authors. Licensed under the Apache License 2.0.
"""The Python serving loops that bench/serve_latency_bench compares streamml
serve with, on the same broker, model and records:

  tuned     the loop a careful Python user writes (the primary baseline):
            python3-confluent-kafka consume(500), the batch's CSV values
            parsed by NumPy in one call, one batched TorchScript call,
            produce() per record (retrying on a full local queue), one
            asynchronous commit per batch.
  kafka-ml  the loop users write today (Kafka-ML style): poll() one message,
            one TorchScript call and one JSON produce per message, and a
            producer flush plus a synchronous commit every 16 messages.

  python_baseline.py make-model OUT.pt [--features 4] [--hidden 64,32] [--classes 3]
      writes the TorchScript MLP both the baselines and streamml serve
      (Model::from_torchscript) run, so both serve the very same module
      (--classes 1: one output, a regression).
  python_baseline.py serve [--loop tuned|kafka-ml] -b BOOTSTRAP --model OUT.pt --input T --output T -G GROUP
          [--features N]
      serves until SIGTERM/SIGINT; prints "served N" on stderr at the end.

Input records: CSV "f0,f1,...,f{n-1}" (the kafka-ml loop ignores extra columns;
the tuned loop expects exactly --features columns, as its one-call parse does).
Output: {"prediction":k,"probabilities":[...]} (classes > 1) or
{"prediction":x} (one output), keyed like the input.
Both clients disable Nagle's algorithm, as streamml's do (see BENCHMARKS.md).
Run with /usr/bin/python3 (Debian python3-torch, python3-numpy,
python3-confluent-kafka).
"""
import argparse
import json
import signal
import sys

import torch


def make_model(args):
    torch.manual_seed(42)
    hidden = [int(h) for h in args.hidden.split(",") if h]
    layers, width = [], args.features
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, args.classes))
    module = torch.jit.script(torch.nn.Sequential(*layers).eval())
    torch.jit.save(module, args.out)


def client_configs(args):
    consumer = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 1,  # the embedded cluster answers a fetch only when this expires
        "socket.nagle.disable": True,
    }
    producer = {"bootstrap.servers": args.bootstrap, "linger.ms": 1, "socket.nagle.disable": True}
    return consumer, producer


def install_stop():
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return running


def start_service(args):
    """The model (one thread), both clients and the stop flag; subscribed."""
    from confluent_kafka import Consumer, Producer

    torch.set_num_threads(1)
    model = torch.jit.load(args.model)
    model.eval()
    consumer_config, producer_config = client_configs(args)
    consumer = Consumer(consumer_config)
    producer = Producer(producer_config)
    producer.list_topics(args.output, timeout=30)  # a long-running service knows its output topic
    running = install_stop()
    consumer.subscribe([args.input])
    return model, consumer, producer, running


def serve_tuned(args):
    import numpy as np

    model, consumer, producer, running = start_service(args)
    served = 0
    while running[0]:
        msgs = consumer.consume(500, 0.1)
        if not msgs:
            continue
        good = []
        for m in msgs:
            if m.error():
                print("consumer error:", m.error(), file=sys.stderr)
            else:
                good.append(m)
        if not good:
            continue
        # One parse for the whole batch: the rows joined into one CSV line.
        x = np.fromstring(b",".join(m.value() for m in good), dtype=np.float32, sep=",")
        x = torch.from_numpy(x.reshape(len(good), args.features))
        with torch.no_grad():
            y = model(x)
        if y.shape[1] == 1:
            values = ['{"prediction":%.6g}' % v for v in y[:, 0].tolist()]
        else:
            probs = torch.softmax(y, dim=1)
            values = ['{"prediction":%d,"probabilities":[%s]}' % (k, ",".join("%.6g" % p for p in row))
                      for k, row in zip(torch.argmax(probs, dim=1).tolist(), probs.tolist())]
        for m, value in zip(good, values):
            while True:
                try:
                    producer.produce(args.output, key=m.key(), value=value)
                    break
                except BufferError:  # the local queue is full: serve delivery reports, retry
                    producer.poll(0.01)
        producer.poll(0)
        consumer.commit(asynchronous=True)
        served += len(good)
    producer.flush()
    consumer.close()
    print("served", served, file=sys.stderr)


def serve_kafka_ml(args):
    model, consumer, producer, running = start_service(args)
    served = 0
    while running[0]:
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        if msg.error():
            print("consumer error:", msg.error(), file=sys.stderr)
            continue
        fields = msg.value().decode().split(",")[: args.features]
        x = torch.tensor([[float(v) for v in fields]], dtype=torch.float32)
        with torch.no_grad():
            y = model(x)
        if y.shape[1] == 1:
            out = {"prediction": float(y[0, 0])}
        else:
            probs = torch.softmax(y, dim=1)[0]
            out = {"prediction": int(torch.argmax(probs)), "probabilities": [float(p) for p in probs]}
        producer.produce(args.output, key=msg.key(), value=json.dumps(out))
        served += 1
        if served % 16 == 0:
            producer.flush()
            consumer.commit(asynchronous=False)
    producer.flush()
    try:
        consumer.commit(asynchronous=False)
    except Exception:  # nothing to commit
        pass
    consumer.close()
    print("served", served, file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make-model")
    m.add_argument("out")
    m.add_argument("--features", type=int, default=4)
    m.add_argument("--hidden", default="64,32")
    m.add_argument("--classes", type=int, default=3)
    s = sub.add_parser("serve")
    s.add_argument("--loop", choices=["tuned", "kafka-ml"], default="tuned")
    s.add_argument("-b", "--bootstrap", required=True)
    s.add_argument("--model", required=True)
    s.add_argument("--input", required=True)
    s.add_argument("--output", required=True)
    s.add_argument("-G", "--group", required=True)
    s.add_argument("--features", type=int, default=4)
    args = parser.parse_args()
    if args.command == "make-model":
        make_model(args)
    elif args.loop == "tuned":
        serve_tuned(args)
    else:
        serve_kafka_ml(args)


if __name__ == "__main__":
    main()
