"""The built-in character-level language model: its evaluator, run as the engine runs it."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import pytest

from researchgym.sandboxes import LocalSandbox, open_local_sandbox
from researchgym.tasks import evaluate, resolve_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from researchgym.tasks import EvaluationResult

TASK = resolve_task("char_lm")
VOCAB: list[str] = json.loads((TASK.data_dir / "vocab.json").read_text())
DOCUMENTS = (TASK.eval_dir / "test.txt").read_text().splitlines(keepends=True)

UNIFORM = """
import json
SIZE = len(json.load(open("data/vocab.json")))
def predict(context):
    return [1 / SIZE] * SIZE
"""

FIVE_GRAM = """
import json
from collections import Counter, defaultdict
N, D = 5, 0.75  # characters of context; absolute discount
VOCAB = json.load(open("data/vocab.json"))
INDEX = {c: i for i, c in enumerate(VOCAB)}
TEXT = "\\n" * N + open("data/train.txt").read()
COUNTS = [defaultdict(Counter) for _ in range(N + 1)]
for i in range(N, len(TEXT)):
    for n in range(N + 1):
        COUNTS[n][TEXT[i - n : i]][INDEX[TEXT[i]]] += 1
CACHE = {}
def predict(context):
    key = ("\\n" * N + context)[-N:]
    if key not in CACHE:
        probs = [1 / len(VOCAB)] * len(VOCAB)
        for n in range(N + 1):
            followers = COUNTS[n].get(key[N - n :])
            if not followers:
                break
            total = sum(followers.values())
            probs = [D * len(followers) / total * p for p in probs]
            for i, count in followers.items():
                probs[i] += (count - D) / total
        CACHE[key] = probs
    return CACHE[key]
"""


@pytest.fixture
async def sandbox() -> AsyncIterator[LocalSandbox]:
    async with await open_local_sandbox() as sb:
        await sb.upload(TASK.workspace_dir, str(sb.workdir))
        await sb.upload(TASK.data_dir, str(sb.workdir / "data"), read_only=True)
        yield sb


async def evaluate_model(sandbox: LocalSandbox, source: str) -> EvaluationResult:
    await sandbox.write_file("model.py", source.encode())
    return await evaluate(TASK, sandbox)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_shipped_baseline_scores_what_task_yaml_says(sandbox: LocalSandbox) -> None:
    for command in TASK.spec.baseline.commands:
        ran = await sandbox.exec(command, timeout=60)
        assert ran.exit_code == 0, ran.output
    result = await evaluate(TASK, sandbox)
    assert result.status == "scored"
    assert result.score == pytest.approx(TASK.spec.baseline.score, abs=1e-9)
    # bpc.py, for the agent, scores a text exactly as the evaluator does
    test_text = str(TASK.eval_dir / "test.txt")
    ran = await sandbox.exec(f"python3 bpc.py {test_text}", timeout=60)
    assert f"{TASK.spec.baseline.score:.4f} bits per character" in ran.output


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_scores_follow_the_model(sandbox: LocalSandbox) -> None:
    uniform = (await evaluate_model(sandbox, UNIFORM)).score
    five_gram = (await evaluate_model(sandbox, FIVE_GRAM)).score
    assert uniform is not None and five_gram is not None
    assert uniform == pytest.approx(math.log2(len(VOCAB)))
    assert five_gram < TASK.spec.baseline.score - 0.8 < uniform  # there is room to improve


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_model_sees_exactly_the_prefixes_in_order(sandbox: LocalSandbox) -> None:
    recorder = UNIFORM + (
        "LOG = open('contexts.jsonl', 'w')\n"
        "def predict(context, uniform=predict):\n"
        "    LOG.write(json.dumps(context) + '\\n')\n"
        "    LOG.flush()\n"
        "    return uniform(context)\n"
    )
    result = await evaluate_model(sandbox, recorder)
    assert result.status == "scored"
    seen = [json.loads(line) for line in (await sandbox.read_file("contexts.jsonl")).splitlines()]
    longest = max(map(len, DOCUMENTS))
    # step by step, the prefix of every document still going; never a character more
    assert seen == [d[:i] for i in range(longest) for d in DOCUMENTS if len(d) > i]
    assert len(seen) == sum(map(len, DOCUMENTS))


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_evaluation_is_deterministic(sandbox: LocalSandbox) -> None:
    noisy = UNIFORM + (
        "import random\n"
        "def predict(context):\n"
        "    rng = random.Random(context[-3:])\n"
        "    weights = [rng.random() + 0.1 for _ in range(SIZE)]\n"
        "    total = sum(weights)\n"
        "    return [w / total for w in weights]\n"
    )
    scores = [(await evaluate_model(sandbox, noisy)).score for _ in range(2)]
    assert scores[0] is not None and scores[0] == scores[1]


def returning(expression: str) -> str:
    return UNIFORM + f"def predict(context):\n    return {expression}\n"


SIZE = len(VOCAB)
BROKEN = [
    (
        returning("[1 / (SIZE - 1)] * (SIZE - 1)"),
        f'predict("") returned {SIZE - 1} entries; it must return a list of {SIZE} numbers'
        " (one per character of data/vocab.json, in its order)",
    ),
    (returning("{c: 1 / SIZE for c in 'abc'}"), 'predict("") returned dict; it must return a list'),
    (returning("'abc'"), 'predict("") returned str; it must return a list'),
    (
        returning("['0.1'] * SIZE"),
        'predict("") returned "0.1"; every entry must be a probability: a finite number'
        " from 0 to 1",
    ),
    (returning("[True] + [0] * (SIZE - 1)"), 'predict("") returned true; every entry must be'),
    (returning("[-0.5, 1.5] + [0] * (SIZE - 2)"), 'predict("") returned -0.5; every entry must'),
    (
        returning("[2 / SIZE] * SIZE"),
        'predict("") returned probabilities that sum to 2; they must sum to 1 within 0.001',
    ),
    (
        returning("[float('nan')] * SIZE"),
        "predict() failed: ValueError: Out of range float values are not JSON compliant",
    ),
    (
        returning("[1.0 if c == 'x' else 0.0 for c in json.load(open('data/vocab.json'))]"),
        'predict("") gave probability 0 to the character that came next, "'
        + DOCUMENTS[0][0]
        + '": that is infinitely many bits; give every character some probability',
    ),
    (
        returning("1 / 0"),
        "predict() failed: ZeroDivisionError: division by zero",
    ),
    ("def guess(context):\n    return []\n", "predict() failed: it defines no function predict"),
    (
        "def predict(context)\n",
        "loading model.py failed: the module does not load: SyntaxError",
    ),
]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize(("source", "reason"), BROKEN)
async def test_malformed_model_is_a_format_error(
    sandbox: LocalSandbox, source: str, reason: str
) -> None:
    result = await evaluate_model(sandbox, source)
    assert result.status == "evaluation_format_error"
    assert result.error is not None and result.error.startswith(f"invalid submission: {reason}")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_missing_model_is_not_found(sandbox: LocalSandbox) -> None:
    await sandbox.exec("rm model.py", timeout=10)
    assert (await evaluate(TASK, sandbox)).status == "submission_not_found"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_hidden_text_and_generator_stay_out_of_the_sandbox(sandbox: LocalSandbox) -> None:
    listing = (await sandbox.exec("ls -AR", timeout=10)).output
    assert "train.txt" in listing and "model.py" in listing
    for hidden in ("test.txt", "vocabulary.json", "evaluate", "generate", "SOURCE"):
        assert hidden not in listing
