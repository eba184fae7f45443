#!/usr/bin/python3
# Copyright streamml authors. Licensed under the Apache License 2.0.
"""The serving loop users write today (Kafka-ML style), as the baseline of
bench/serve_latency_bench: a python3-confluent-kafka consumer, one TorchScript
call per message, a JSON produce per message, and a producer flush plus a
synchronous offset commit every 16 messages.

  python_baseline.py make-model OUT.pt [--features 4] [--hidden 64,32] [--classes 3]
      writes the TorchScript MLP both the baseline and streamml serve
      (Model::from_torchscript) run, so both serve the very same module.
  python_baseline.py serve -b BOOTSTRAP --model OUT.pt --input T --output T -G GROUP
      serves until SIGTERM/SIGINT; prints "served N" on stderr at the end.

Input records: CSV "f0,f1,...,f{n-1}[,...]" (extra columns ignored).
Output: {"prediction":k,"probabilities":[...]} keyed like the input.
Run with /usr/bin/python3 (Debian python3-torch, python3-confluent-kafka).
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


def serve(args):
    from confluent_kafka import Consumer, Producer

    torch.set_num_threads(1)
    model = torch.jit.load(args.model)
    model.eval()
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 1,  # the embedded cluster answers a fetch only when this expires
    })
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 1})
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    consumer.subscribe([args.input])
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
            probs = torch.softmax(model(x), dim=1)[0]
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
    s.add_argument("-b", "--bootstrap", required=True)
    s.add_argument("--model", required=True)
    s.add_argument("--input", required=True)
    s.add_argument("--output", required=True)
    s.add_argument("-G", "--group", required=True)
    s.add_argument("--features", type=int, default=4)
    args = parser.parse_args()
    if args.command == "make-model":
        make_model(args)
    else:
        serve(args)


if __name__ == "__main__":
    main()
