#!/usr/bin/python3
# Copyright streamml authors. Licensed under the Apache License 2.0.
"""A notebook, cell by cell (docs/python.md): train a PyTorch model from a
Kafka topic with streamml, write its predictions back to Kafka, and hand the
model to `streamml serve`. Runs on an embedded cluster, or on the brokers in
$BOOTSTRAP.

  PYTHONPATH=build/python /usr/bin/python3 examples/python/kafka_notebook.py
"""
import os
import random
import tempfile

import torch
from torch.utils.data import DataLoader

import streamml
from streamml.torch import KafkaIterableDataset

# %% A cluster with a training topic of CSV records "a,b,y" (y = 1 when a + b > 0).
cluster = None if os.environ.get("BOOTSTRAP") else streamml.EmbeddedCluster(topics={"train": 2, "scores": 1})
servers = os.environ.get("BOOTSTRAP") or cluster.bootstrap_servers
rng = random.Random(1)
rows = [(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(4000)]
streamml.produce("train", ["%.5f,%.5f,%d" % (a, b, a + b > 0) for a, b in rows], servers=servers,
                 keys=["k%d" % i for i in range(len(rows))])

# %% Batches straight from Kafka into tensors (no copy), two DataLoader workers.
decoder = "csv:names=a+b+y,label=y"
train = KafkaIterableDataset(["train"], servers=servers, decoder=decoder, batch_size=64, shuffle_buffer=1000)
model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(5):
    total, n = 0.0, 0
    for x, y in DataLoader(train, batch_size=None, num_workers=2):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        optimizer.step()
        total, n = total + loss.item() * len(x), n + len(x)
    print("epoch %d: loss %.4f over %d records" % (epoch + 1, total / n, n))

# %% Predictions back to Kafka, in input order, keyed like the inputs.
model.eval()
with streamml.OutputSequence("scores", servers=servers) as scores:
    write = streamml.PredictionWriter(scores, format=lambda p: "%.4f" % p)
    with torch.no_grad():
        for batch in streamml.KafkaDataset(["train:0"], servers=servers, decoder=decoder, batch_size=256):
            write(torch.sigmoid(model(torch.from_numpy(batch.features)))[:, 0].tolist(), batch)
first = streamml.KafkaDataset(["scores:0:0:2"], servers=servers).next()
print("scores:", [(m.key.decode(), p.decode()) for m, p in zip(first.meta, first.payloads)])

# %% The model as a streamml model file, servable with no training step:
#    streamml serve -b $B --model model.smlm --input requests --output scores -G scorer
folder = tempfile.mkdtemp()
torch.jit.save(torch.jit.script(model), os.path.join(folder, "model.pt"))
served = streamml.import_torchscript(os.path.join(folder, "model.pt"), decoder, "binary",
                                     out=os.path.join(folder, "model.smlm"))
print("model.smlm:", served.metadata["task"], served.metadata["feature_names"],
      "P(y=1 | 0.5, 0.4) = %.3f" % served.predict([[0.5, 0.4]])[0])
if cluster:
    cluster.stop()
