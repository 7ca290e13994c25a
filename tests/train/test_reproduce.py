"""`nib reproduce` runs the pipeline's stages through the training package's own commands (never the server's
command line), with the bundled model's settings."""

import argparse
import json
from pathlib import Path

from nib.model.train import cli


def parsed(argv):
    parser = argparse.ArgumentParser(prog="nib")
    cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_the_steps_are_the_stages_with_the_bundled_model_s_settings():
    steps = [parsed(step) for step in cli.steps(Path("runs/again"), threads=2)]
    assert [a.run for a in steps] == [cli.corpus, cli.tokenizer, cli.encode, cli.train, cli.export]
    train, export = steps[3], steps[4]
    assert (
        train.plain,
        train.budget_tokens,
        train.layers,
        train.width,
        train.block_size,
        train.batch_size,
        train.seed,
        train.threads,
    ) == (True, 8 * 512 * 2441, 6, 256, 512, 8, 1337, 2)
    assert (export.checkpoint, export.out, export.parity, export.int8_block) == (
        Path("runs/plain/ckpt.pt"),
        Path("runs/again"),
        "dev",
        32,  # as the bundled model was quantized, not the blocks of 16 `nib export` now uses
    )


def test_a_stage_runs_as_its_command_would(tmp_path, capsys):
    manifest = tmp_path / "corpus.toml"
    manifest.write_text('stdlib = true\nstdlib_include = ["json/__init__.py"]\npackages = []\n')
    assert cli.stage(["corpus", "--manifest", str(manifest), "--out", str(tmp_path / "corpus")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["files"], json.loads((tmp_path / "corpus" / "corpus.json").read_text())["files"]) == (1, 1)
