"""Generate the char_lm corpus: short stories from a small probabilistic grammar.

Run once; it writes data/train.txt, data/valid.txt, data/vocab.json, the two hidden texts
eval/submit.txt and eval/validate.txt, and eval/vocabulary.json. It is NOT shipped to agents
(a task's top level is never copied into a sandbox): with it, the hidden texts could be
regenerated. See SOURCE.md.

Usage: python3 generate_corpus.py
"""

import json
import random
from pathlib import Path

SEED = 4_122_026
"""Seeds the stream of the training, validation and final test (submit) documents."""
VALIDATE_SEED = 3_997_015_666_160_961_309
"""Seeds the stream of the hidden text that the validate command scores on, and nothing else."""
TRAIN_DOCS = 400
VALID_DOCS = 40
TEST_DOCS = 32

TOPICS = {
    "sea": {
        "places": ["harbour", "beach", "lighthouse", "island", "bay", "old dock"],
        "roles": ["sailor", "fisher", "captain", "diver", "boat builder"],
        "things": ["boat", "net", "sail", "shell", "anchor", "rope", "map", "lantern", "fish"],
        "verbs": [
            ("mend", "mended"),
            ("row", "rowed"),
            ("pull", "pulled"),
            ("paint", "painted"),
            ("tie", "tied"),
            ("clean", "cleaned"),
        ],
        "adjs": ["salty", "blue", "wet", "calm", "stormy", "grey"],
    },
    "farm": {
        "places": ["barn", "meadow", "orchard", "mill", "field", "farmhouse"],
        "roles": ["farmer", "shepherd", "miller", "beekeeper", "gardener"],
        "things": ["goat", "sheep", "apple", "fence", "basket", "cart", "pumpkin", "goose"],
        "verbs": [
            ("feed", "fed"),
            ("plant", "planted"),
            ("pick", "picked"),
            ("fix", "fixed"),
            ("wash", "washed"),
            ("chase", "chased"),
        ],
        "adjs": ["muddy", "green", "golden", "sleepy", "ripe", "dusty"],
    },
    "forest": {
        "places": ["forest", "river", "cave", "hill", "valley", "clearing"],
        "roles": ["hunter", "woodcutter", "ranger", "hermit", "herbalist"],
        "things": ["fox", "mushroom", "axe", "branch", "wolf", "berry", "feather", "stone"],
        "verbs": [
            ("follow", "followed"),
            ("gather", "gathered"),
            ("climb", "climbed"),
            ("hide", "hid"),
            ("track", "tracked"),
            ("cut", "cut"),
        ],
        "adjs": ["dark", "mossy", "wild", "tall", "silent", "ancient"],
    },
    "city": {
        "places": ["market", "station", "library", "bakery", "square", "tower"],
        "roles": ["baker", "clerk", "painter", "tailor", "musician", "driver"],
        "things": ["bicycle", "ticket", "coat", "clock", "bus", "newspaper", "umbrella", "bench"],
        "verbs": [
            ("sell", "sold"),
            ("buy", "bought"),
            ("fix", "fixed"),
            ("wait for", "waited for"),
            ("draw", "drew"),
            ("wrap", "wrapped"),
        ],
        "adjs": ["busy", "noisy", "shiny", "crowded", "modern", "tiny"],
    },
    "castle": {
        "places": ["castle", "court", "tower", "moat", "great hall", "garden"],
        "roles": ["knight", "princess", "king", "queen", "guard", "wizard"],
        "things": ["sword", "crown", "dragon", "shield", "horse", "scroll", "ring", "key"],
        "verbs": [
            ("guard", "guarded"),
            ("polish", "polished"),
            ("ride", "rode"),
            ("seek", "sought"),
            ("break", "broke"),
            ("hold", "held"),
        ],
        "adjs": ["royal", "golden", "brave", "secret", "proud", "heavy"],
    },
    "kitchen": {
        "places": ["kitchen", "pantry", "cellar", "inn", "bakery", "garden"],
        "roles": ["cook", "baker", "innkeeper", "maid", "butcher"],
        "things": ["pot", "cake", "knife", "loaf", "spoon", "cheese", "kettle", "onion", "dish"],
        "verbs": [
            ("bake", "baked"),
            ("stir", "stirred"),
            ("taste", "tasted"),
            ("boil", "boiled"),
            ("slice", "sliced"),
            ("carry", "carried"),
        ],
        "adjs": ["hot", "sweet", "fresh", "burnt", "warm", "sticky"],
    },
}
GENERAL = {
    "things": ["box", "key", "letter", "book", "cup", "coin", "hat", "candle", "bag", "door"],
    "verbs": [
        ("see", "saw"),
        ("carry", "carried"),
        ("open", "opened"),
        ("lose", "lost"),
        ("keep", "kept"),
        ("find", "found"),
        ("want", "wanted"),
    ],
    "adjs": ["old", "small", "big", "red", "quiet", "bright", "strange", "broken", "little"],
}
IRREGULAR = {
    "fish": "fish",
    "sheep": "sheep",
    "knife": "knives",
    "goose": "geese",
    "loaf": "loaves",
    "shelf": "shelves",
    "wolf": "wolves",
    "dish": "dishes",
}
NUMBERS = ["one", "two", "three", "four", "five", "six", "seven"]
EMOTIONS = ["happy", "sad", "tired", "proud", "worried", "surprised", "angry", "calm"]
TIMES = [
    "Later that day",
    "The next morning",
    "After a while",
    "That evening",
    "Soon",
    "At noon",
    "Before long",
    "One rainy day",
]
ONSETS = [
    "b",
    "d",
    "f",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "dr",
    "kr",
    "st",
    "th",
    "sh",
    "h",
    "j",
    "w",
]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ee", "y"]
CODAS = ["n", "r", "l", "s", "th", "m", "k", "d"]
RELATIONS = ["sister", "brother", "cousin", "neighbour", "friend", "teacher"]


def zipf(rng, items):
    """Pick from ``items``, the first ones more often (weights 1/rank)."""
    return rng.choices(items, weights=[1 / (i + 1) for i in range(len(items))])[0]


def plural(noun):
    last = noun.split()[-1]
    if last in IRREGULAR:
        new = IRREGULAR[last]
    elif last.endswith(("s", "sh", "ch", "x")):
        new = last + "es"
    elif last.endswith("y") and last[-2] not in "aeiou":
        new = last[:-1] + "ies"
    else:
        new = last + "s"
    return noun[: len(noun) - len(last)] + new


def article(word):
    return "an" if word[0] in "aeiou" else "a"


class Character:
    def __init__(self, rng, role, used):
        self.female = rng.random() < 0.5
        while True:
            name = "".join(
                rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(rng.randint(1, 2))
            )
            name += rng.choice(["a", "ina", "elle", "ia"]) if self.female else rng.choice(CODAS)
            if name not in used:
                break
        used.add(name)
        self.name = name.capitalize()
        self.role = role
        self.he = "she" if self.female else "he"
        self.his = "her" if self.female else "his"


class Story:
    """One document: a topic, two or three characters, and the things mentioned so far."""

    def __init__(self, rng):
        self.rng = rng
        self.topic = TOPICS[rng.choice(sorted(TOPICS))]
        used = set()
        self.cast = [
            Character(rng, zipf(rng, self.topic["roles"]), used)
            for _ in range(rng.choice([2, 2, 3]))
        ]
        self.place = zipf(rng, self.topic["places"])
        self.mentioned = []
        self.last = self.cast[0]

    def pick(self, kind):
        """Mostly the topic's words, sometimes general ones."""
        source = self.topic if self.rng.random() < 0.8 else GENERAL
        return zipf(self.rng, source[kind])

    def thing(self):
        if self.mentioned and self.rng.random() < 0.3:
            return self.rng.choice(self.mentioned)
        thing = self.pick("things")
        self.mentioned.append(thing)
        return thing

    def subject(self, person):
        """A name, or a pronoun when the person was the last one named."""
        use_pronoun = person is self.last and self.rng.random() < 0.6
        self.last = person
        return person.he.capitalize() if use_pronoun else person.name

    def adj_thing(self):
        thing = self.thing()
        return f"{self.pick('adjs')} {thing}" if self.rng.random() < 0.5 else thing

    # --- sentences ---------------------------------------------------------------------

    def intro(self):
        hero, r = self.cast[0], self.rng.random()
        self.last = hero
        adj = self.pick("adjs")
        if r < 0.4:
            return (
                f"Once upon a time, near {article(adj)} {adj} {self.place}, there lived "
                f"{article(hero.role)} {hero.role} named {hero.name}."
            )
        if r < 0.7:
            return (
                f"{hero.name} was {article(adj)} {adj} {hero.role} who lived by the {self.place}."
            )
        age = self.rng.randint(7, 79)
        return (
            f"There was once {article(hero.role)} {hero.role} called {hero.name}, and "
            f"{hero.he} was {age} years old."
        )

    def meet(self, other):
        hero = self.cast[0]
        self.last = other
        if self.rng.random() < 0.5:
            relation = self.rng.choice(RELATIONS)
            who = self.subject(hero)
            self.last = other
            role = f"{article(other.role)} {other.role}"
            return f"{who} had a {relation} named {other.name}, who was {role}."
        place = zipf(self.rng, self.topic["places"])
        role = f"{article(other.role)} {other.role}"
        return f"{other.name}, {role} from the {place}, often came to visit {hero.name}."

    def action(self):
        person = self.rng.choice(self.cast)
        subject = self.subject(person)
        _, past = self.pick("verbs")
        tail = self.rng.choice(
            [
                "",
                "",
                f" near the {self.place}",
                f" with {person.his} {self.thing()}",
                " before the sun went down",
                " all morning",
            ]
        )
        return f"{subject} {past} the {self.adj_thing()}{tail}."

    def dialogue(self):
        asker, answerer = self.rng.sample(self.cast, 2)
        thing = self.thing()
        verb, _ = self.pick("verbs")
        question = self.rng.choice(
            [
                f"Where is my {thing}?",
                f"Can you help me {verb} the {thing}?",
                f"Have you seen the {thing}?",
            ]
        )
        answers = [
            f"It is in the {zipf(self.rng, self.topic['places'])}",
            f"Yes, I will {verb} it",
            "No, I am too tired",
        ]
        answers += [f"Ask {c.name}" for c in self.cast if c is not asker and c is not answerer]
        answer = self.rng.choice(answers)
        self.last = answerer
        return f'"{question}" asked {asker.name}. "{answer}," said {answerer.name}.'

    def counting(self):
        person = self.rng.choice(self.cast)
        subject = self.subject(person)
        n = self.rng.randint(2, 7)
        things = plural(self.thing())
        count = ", ".join(NUMBERS[:n])
        return (
            f"{subject} counted the {things}: {count}. There were {NUMBERS[n - 1]} {things} in all."
        )

    def agreement(self):
        person = self.rng.choice(self.cast)
        thing = self.thing()
        many = self.rng.random() < 0.5
        noun, be = (plural(thing), "were") if many else (thing, "was")
        _, past = self.pick("verbs")
        return f"The {noun} that {person.name} {past} {be} {self.pick('adjs')}."

    def feeling(self):
        person = self.rng.choice(self.cast)
        subject = self.subject(person)
        thing = self.thing()
        many = self.rng.random() < 0.3
        noun, be = (plural(thing), "were") if many else (thing, "was")
        emotion = self.rng.choice(EMOTIONS)
        return f"{subject} felt {emotion}, because the {noun} {be} {self.pick('adjs')}."

    def ending(self):
        hero, friend = self.cast[0], self.cast[1]
        first = self.mentioned[0] if self.mentioned else self.pick("things")
        _, past = self.pick("verbs")
        if self.rng.random() < 0.5:
            return (
                f"In the end, {hero.name} and {friend.name} {past} the {first} together, and "
                f"{hero.he} was {self.rng.choice(EMOTIONS)}."
            )
        return f"And that is how {hero.name} the {hero.role} {past} the {first}."

    def text(self):
        sentences = [self.intro()] + [self.meet(other) for other in self.cast[1:]]
        body = [
            self.action,
            self.action,
            self.dialogue,
            self.counting,
            self.agreement,
            self.feeling,
        ]
        for _ in range(self.rng.randint(3, 7)):
            sentence = self.rng.choice(body)()
            if self.rng.random() < 0.25:
                first, rest = sentence.split(" ", 1)
                if first in ("The", "He", "She"):
                    first = first.lower()
                sentence = f"{self.rng.choice(TIMES)}, {first} {rest}"
            sentences.append(sentence)
        sentences.append(self.ending())
        return " ".join(sentences)


def generate(count, rng):
    return "".join(Story(rng).text() + "\n" for _ in range(count))


def main():
    here = Path(__file__).parent
    rng = random.Random(SEED)
    train, valid, test = (
        generate(TRAIN_DOCS, rng),
        generate(VALID_DOCS, rng),
        generate(TEST_DOCS, rng),
    )
    # a stream of its own, so that adding it left the other texts as they were
    validate = generate(TEST_DOCS, random.Random(VALIDATE_SEED))
    vocab = sorted(set(train))
    for name, text in (("valid", valid), ("test", test), ("validate", validate)):
        assert set(text) <= set(vocab), f"a character only in {name}"
    (here / "data" / "train.txt").write_text(train)
    (here / "data" / "valid.txt").write_text(valid)
    (here / "eval" / "submit.txt").write_text(test)
    (here / "eval" / "validate.txt").write_text(validate)
    for path in (here / "data" / "vocab.json", here / "eval" / "vocabulary.json"):
        path.write_text(json.dumps(vocab) + "\n")
    print(
        f"train {len(train)}, valid {len(valid)}, submit {len(test)},",
        f"validate {len(validate)} characters; vocabulary {len(vocab)}",
    )


if __name__ == "__main__":
    main()
