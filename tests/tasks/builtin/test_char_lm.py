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

    from researchgym.tasks import EvaluationMode, EvaluationResult

TASK = resolve_task("char_lm")
VOCAB: list[str] = json.loads((TASK.data_dir / "vocab.json").read_text())
HIDDEN: dict[EvaluationMode, list[str]] = {
    mode: (TASK.eval_dir / f"{mode}.txt").read_text().splitlines(keepends=True)
    for mode in ("validate", "submit")
}
DOCUMENTS = HIDDEN["submit"]

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


async def evaluate_model(
    sandbox: LocalSandbox, source: str, mode: EvaluationMode = "submit"
) -> EvaluationResult:
    await sandbox.write_file("model.py", source.encode())
    return await evaluate(TASK, sandbox, mode=mode)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_shipped_baseline_scores_what_task_yaml_says(sandbox: LocalSandbox) -> None:
    for command in TASK.spec.baseline.commands:
        ran = await sandbox.exec(command, timeout=60)
        assert ran.exit_code == 0, ran.output
    result = await evaluate(TASK, sandbox)
    assert result.status == "scored" and result.score is not None
    assert result.score == pytest.approx(TASK.spec.baseline.score, abs=1e-9)
    description = " ".join(TASK.spec.description.split())
    assert f"The baseline scores {TASK.spec.baseline.score:.3f}." in description
    # validate scores on a text of its own
    validated = await evaluate(TASK, sandbox, mode="validate")
    assert validated.status == "scored" and validated.score is not None
    assert abs(validated.score - result.score) > 1e-4
    assert f"(the baseline scores {validated.score:.3f} there)" in description
    # bpc.py, for the agent, scores a text exactly as the evaluator does
    await sandbox.upload(TASK.eval_dir, "texts")
    for mode, score in (("submit", result.score), ("validate", validated.score)):
        ran = await sandbox.exec(f"python3 bpc.py texts/{mode}.txt", timeout=60)
        assert f"{score:.4f} bits per character" in ran.output


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_scores_follow_the_model(sandbox: LocalSandbox) -> None:
    uniform = (await evaluate_model(sandbox, UNIFORM)).score
    five_gram = (await evaluate_model(sandbox, FIVE_GRAM)).score
    assert uniform is not None and five_gram is not None
    assert uniform == pytest.approx(math.log2(len(VOCAB)))
    assert five_gram < TASK.spec.baseline.score - 0.8 < uniform  # there is room to improve


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("mode", ["validate", "submit"])
async def test_model_sees_exactly_the_prefixes_in_order(
    sandbox: LocalSandbox, mode: EvaluationMode
) -> None:
    recorder = UNIFORM + (
        "LOG = open('contexts.jsonl', 'w')\n"
        "def predict(context, uniform=predict):\n"
        "    LOG.write(json.dumps(context) + '\\n')\n"
        "    LOG.flush()\n"
        "    return uniform(context)\n"
    )
    result = await evaluate_model(sandbox, recorder, mode)
    assert result.status == "scored"
    seen = [json.loads(line) for line in (await sandbox.read_file("contexts.jsonl")).splitlines()]
    documents = HIDDEN[mode]
    longest = max(map(len, documents))
    # step by step, the prefix of every document still going; never a character more
    assert seen == [d[:i] for i in range(longest) for d in documents if len(d) > i]
    assert len(seen) == sum(map(len, documents))


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
UNQUOTED = " (the final evaluation does not quote its message)"
BROKEN = [
    (
        returning("[1 / (SIZE - 1)] * (SIZE - 1)"),
        f'predict("") returned {SIZE - 1} entries; it must return a list of {SIZE} numbers'
        " (one per character of data/vocab.json, in its order)",
    ),
    (returning("{c: 1 / SIZE for c in 'abc'}"), 'predict("") returned dict; it must return a list'),
    (returning("'abc'"), 'predict("") returned str; it must return a list'),
    (
        returning("['0.1'] * SIZE"),  # a string is not quoted: it could be the hidden text
        'predict("") returned a str of 3 characters; every entry must be a probability: a'
        " finite number from 0 to 1",
    ),
    (returning("[True] + [0] * (SIZE - 1)"), 'predict("") returned True; every entry must be'),
    (returning("[-0.5, 1.5] + [0] * (SIZE - 2)"), 'predict("") returned -0.5; every entry must'),
    (
        returning("[2 / SIZE] * SIZE"),
        'predict("") returned probabilities that sum to 2; they must sum to 1 within 0.001',
    ),
    (returning("[float('nan')] * SIZE"), "predict() failed: ValueError" + UNQUOTED),
    (
        returning("[1.0 if c == 'x' else 0.0 for c in json.load(open('data/vocab.json'))]"),
        # the final evaluation's text is not quoted, not even its first character
        'predict("") gave probability 0 to the character that came next: that is infinitely'
        " many bits; give every character some probability",
    ),
    (returning("1 / 0"), "predict() failed: ZeroDivisionError" + UNQUOTED),
    ("def guess(context):\n    return []\n", "predict() failed: it defines no function predict"),
    (
        "def predict(context)\n",
        "loading model.py failed: the module does not load: SyntaxError" + UNQUOTED,
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
@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (returning("['0.1'] * SIZE"), "predict(\"\") returned '0.1'; every entry must be"),
        (returning("1 / 0"), "predict() failed: ZeroDivisionError: division by zero"),
    ],
)
async def test_validating_quotes_what_the_model_said(
    sandbox: LocalSandbox, source: str, reason: str
) -> None:
    result = await evaluate_model(sandbox, source, "validate")
    assert result.error is not None and result.error.startswith(f"invalid submission: {reason}")


LEAKER = (
    UNIFORM
    + """
import os, sys
def predict(context, uniform=predict):
    print(context)
    print(context, file=sys.stderr)
    if len(context) == 60:
{ending}
    return uniform(context)
"""
)
"""A model that prints every context it is given, and at 60 characters ends as ``ending``."""

LEAKS = {
    "raises": "        raise ValueError(context)",
    "names its exception": "        raise type(context, (Exception,), {})()",
    "answers with the text": "        return [context] * SIZE",
    "answers with a mapping": "        return {context: 1.0}",
    "exits": "        os._exit(1)",
}


def shares_text(error: str, text: str, width: int = 16) -> bool:
    """Whether ``error`` holds any ``width`` characters in a row of ``text``."""
    windows = {text[i : i + width] for i in range(len(text) - width + 1)}
    return any(error[i : i + width] in windows for i in range(len(error) - width + 1))


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("ending", LEAKS)
async def test_what_the_model_prints_or_says_of_the_final_text_is_never_shown(
    sandbox: LocalSandbox, ending: str
) -> None:
    source = LEAKER.format(ending=LEAKS[ending])
    validated = await evaluate_model(sandbox, source, "validate")
    assert validated.status == "evaluation_format_error" and validated.error is not None
    assert shares_text(validated.error, "".join(HIDDEN["validate"]))  # its to debug with
    submitted = await evaluate_model(sandbox, source, "submit")
    assert submitted.status == "evaluation_format_error" and submitted.error is not None
    assert not shares_text(submitted.error, "".join(HIDDEN["submit"])), submitted.error


ONLY_X_AFTER_40 = UNIFORM + (
    "X = [1.0 if c == 'x' else 0.0 for c in json.load(open('data/vocab.json'))]\n"
    "def predict(context, uniform=predict):\n"
    "    return X if len(context) == 40 else uniform(context)\n"
)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_only_validate_messages_quote_the_hidden_text(sandbox: LocalSandbox) -> None:
    validated = await evaluate_model(sandbox, ONLY_X_AFTER_40, "validate")
    # the validate text is the agent's to see: the message shows where and what came
    first = next(d for d in HIDDEN["validate"] if len(d) > 40 and d[40] != "x")
    assert validated.error == (
        f'invalid submission: predict("...{first[13:40]}") gave probability 0 to the character'
        f' that came next, "{first[40]}": that is infinitely many bits; give every character'
        " some probability"
    )
    # the final evaluation's text, never: only the context's length
    submitted = await evaluate_model(sandbox, ONLY_X_AFTER_40, "submit")
    assert submitted.error == (
        "invalid submission: predict(<the first 40 characters of a hidden document>) gave"
        " probability 0 to the character that came next: that is infinitely many bits; give"
        " every character some probability"
    )


MEMORISER = (
    UNIFORM
    + """
import os
HERE = os.path.dirname(os.path.abspath(__file__))
MEMORY = os.path.join(HERE, "memory.json")
INDEX = {c: i for i, c in enumerate(json.load(open("data/vocab.json")))}
try:
    with open(MEMORY) as f:
        REMEMBERED = json.load(f)  # documents seen before
except FileNotFoundError:
    REMEMBERED = []
seen = set()  # the longest context so far of each document of this evaluation
step = 0

def predict(context):
    global step
    if len(context) > step:  # a new step: write down the documents as far as they went
        step = len(context)
        with open(MEMORY, "w") as f:
            json.dump(REMEMBERED + [text + "\\n" for text in seen], f)
    seen.discard(context[:-1])
    seen.add(context)
    for text in REMEMBERED:  # replay the first remembered document that fits
        if len(text) > len(context) and text.startswith(context):
            probs = [0.01 / SIZE] * SIZE
            probs[INDEX[text[len(context)]]] += 0.99
            return probs
    return [1 / SIZE] * SIZE
"""
)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_text_remembered_while_validating_does_not_help_at_submit(
    sandbox: LocalSandbox,
) -> None:
    async def score(mode: EvaluationMode) -> float:
        result = await evaluate_model(sandbox, MEMORISER, mode)
        assert result.status == "scored" and result.score is not None, result.error
        return result.score

    assert await score("validate") == pytest.approx(math.log2(SIZE))  # nothing remembered yet
    # the attack works on a text it has seen: replayed, the validate text costs next to nothing
    assert await score("validate") < 0.2
    # the final evaluation is on another text: what validate showed is worth no more than
    # remembering the agent's own data/valid.txt
    replayed = await score("submit")
    valid = (TASK.data_dir / "valid.txt").read_text().splitlines(keepends=True)
    await sandbox.write_file("memory.json", json.dumps(valid).encode())
    honest = await score("submit")
    assert replayed > honest - 0.05
    assert replayed > math.log2(SIZE) - 0.5  # next to nothing to replay


def test_hidden_texts_share_no_document_with_each_other_or_the_data() -> None:
    given = {
        document
        for name in ("train.txt", "valid.txt")
        for document in (TASK.data_dir / name).read_text().splitlines(keepends=True)
    }
    validate, submit = set(HIDDEN["validate"]), set(HIDDEN["submit"])
    assert len(validate) == len(submit) == 32
    assert not validate & submit and not (validate | submit) & given
    assert all(document.endswith("\n") for document in validate | submit)
    assert set("".join(validate | submit)) <= set(VOCAB)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_missing_model_is_not_found(sandbox: LocalSandbox) -> None:
    await sandbox.exec("rm model.py", timeout=10)
    assert (await evaluate(TASK, sandbox)).status == "submission_not_found"


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_hidden_text_and_generator_stay_out_of_the_sandbox(sandbox: LocalSandbox) -> None:
    listing = (await sandbox.exec("ls -AR", timeout=10)).output
    assert "train.txt" in listing and "model.py" in listing
    for hidden in ("submit.txt", "validate.txt", "vocabulary.json", "evaluate", "generate"):
        assert hidden not in listing
    assert "SOURCE" not in listing
