# Copyright streamml authors. Licensed under the Apache License 2.0.
"""Models across the language boundary: streamml.Model, export to TorchScript
that plain torch.jit.load opens (standardisation included), and import of a
Python TorchScript module as a servable model file, by the CLI and by Python."""
import os
import subprocess

import numpy as np
import pytest
import torch

import streamml

STREAMML = os.environ.get("STREAMML", "build/bin/streamml")
DECODER = "csv:features=0..3,label=4"


def cli(*args):
    proc = subprocess.run([STREAMML, *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def rows(n=200, seed=1):
    rng = np.random.default_rng(seed)
    # Features far from zero mean and unit scale, so that standardisation matters.
    x = rng.normal(loc=[10, -5, 100, 0.5], scale=[2, 0.5, 30, 0.1], size=(n, 4)).astype(np.float32)
    return x


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A regression and a multiclass model, trained by `streamml train` on a CSV file."""
    d = tmp_path_factory.mktemp("models")
    x = rows()
    y_reg = x[:, 0] * 0.3 - x[:, 2] * 0.01
    y_cls = (x[:, 0] > 10).astype(int) + (x[:, 1] > -5).astype(int)
    out = {}
    for task, y in (("regression", y_reg), ("multiclass:3", y_cls)):
        csv = d / ("%s.csv" % task.split(":")[0])
        csv.write_text("".join(",".join("%g" % v for v in list(r) + [t]) + "\n" for r, t in zip(x, y)))
        model = d / ("%s.smlm" % task.split(":")[0])
        cli("train", "--file", str(csv), "--decode", DECODER, "--task", task, "--model", "mlp:16,8;activation=tanh",
            "--epochs", "3", "--save", str(model), "-q")
        out[task.split(":")[0]] = model
    return out


def test_model_load_predict_and_metadata(trained):
    model = streamml.Model.load(trained["multiclass"])
    meta = model.metadata
    assert meta["task"] == "multiclass:3"
    assert meta["num_features"] == 4 and meta["kind"] == "mlp"
    assert meta["decoder_spec"].startswith("csv:") and meta["standardize"] and meta["has_stats"]
    assert meta["offsets"] == [], "trained from a file, not Kafka"
    p = model.predict(rows(10, seed=2))
    assert p.shape == (10, 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert list(model.predict_classes(rows(10, seed=2))) == list(p.argmax(axis=1))
    assert model.predict(rows(1)[0]).shape == (1, 3), "one row"
    with pytest.raises(streamml.InputError, match="reads 4 features"):
        model.predict(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(streamml.InputError, match="no-such-file"):
        streamml.Model.load("no-such-file.smlm")


@pytest.mark.parametrize("how", ["cli", "python"])
def test_export_opens_with_torch_jit_load_and_predicts_the_same(trained, tmp_path, how):
    x = rows(50, seed=3)
    for name, path in trained.items():
        out = tmp_path / (name + ".pt")
        if how == "cli":
            cli("export", str(path), str(out))
        else:
            streamml.export(str(path), out)
        module = torch.jit.load(str(out))  # plain PyTorch, no streamml
        with torch.no_grad():
            y = module(torch.from_numpy(x))  # raw features: the module standardises
        expected = streamml.Model.load(path).predict(x)
        if name == "regression":
            got = y[:, 0].numpy()
        else:
            got = torch.softmax(y, dim=1).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        extra = {"streamml.json": ""}
        torch.jit.load(str(out), _extra_files=extra)
        assert b'"task"' in extra["streamml.json"]


def test_import_makes_a_torchscript_module_servable_without_training(tmp_path, trained):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 1)

        def forward(self, x):
            return self.linear(x * 0.5)

    torch.manual_seed(0)
    net = torch.jit.script(Net().eval())
    pt = tmp_path / "net.pt"
    torch.jit.save(net, str(pt))
    x = rows(20)
    with torch.no_grad():
        expected = net(torch.from_numpy(x))[:, 0].numpy()
    # CLI
    smlm = tmp_path / "net.smlm"
    cli("import", str(pt), "--decode", DECODER, "--task", "regression", str(smlm))
    model = streamml.Model.load(smlm)
    assert model.metadata["kind"] == "torchscript" and not model.metadata["standardize"]
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6, atol=1e-6)
    # Python, and the round trip back to TorchScript
    model = streamml.import_torchscript(pt, DECODER, "regression", out=str(tmp_path / "py.smlm"))
    assert model.metadata["decoder_spec"].startswith("csv:")
    np.testing.assert_allclose(streamml.Model.load(tmp_path / "py.smlm").predict(x), expected, rtol=1e-6, atol=1e-6)
    streamml.export(model, tmp_path / "back.pt")
    with torch.no_grad():
        back = torch.jit.load(str(tmp_path / "back.pt"))(torch.from_numpy(x))[:, 0].numpy()
    np.testing.assert_allclose(back, expected, rtol=1e-6, atol=1e-6)
    # A module that does not fit the task is refused, naming the file.
    with pytest.raises(streamml.InputError, match="net.pt"):
        streamml.import_torchscript(pt, DECODER, "multiclass:3")
    with pytest.raises(streamml.ConfigError):
        streamml.import_torchscript(pt, DECODER, "sideways")
    proc = subprocess.run([STREAMML, "import", str(pt), "--decode", DECODER, "--task", "multiclass:3",
                           str(tmp_path / "x.smlm")], capture_output=True, text=True)
    assert proc.returncode == 1 and "net.pt" in proc.stderr
