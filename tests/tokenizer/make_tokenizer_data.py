#!/usr/bin/python3
"""Writes the tokenizer tests' data: a tiny GPT-2-style BPE vocabulary and the ids OpenAI's
encoder.py gives for a set of strings.

Run from anywhere with a Python that has the `regex` module (Debian: python3-regex) and commit
tests/tokenizer/data/; the tests only read it:

    /usr/bin/python3 tests/tokenizer/make_tokenizer_data.py

Files written to tests/tokenizer/data/:
    vocab.json, merges.txt   a byte-level BPE trained here (train_bpe) on CORPUS: the 256 byte
                             tokens in bytes_to_unicode's order, one token per merge, then
                             <|endoftext|>; merges.txt starts with "#version: 0.2" as GPT-2's does
    cases.txt                one case a line, "HEX|IDS": the input bytes in hex, then the ids
                             encoder.py gives, space-separated
    unordered/               a hand-made vocabulary whose merge ranks are not in the order the
                             merges create their tokens (a pair of low rank appears only after a
                             merge of higher rank), with its cases.txt: it checks that each round
                             merges every occurrence of the lowest-ranked pair before any pair the
                             round creates, as encoder.py's loop does

The reference (Encoder below) is encoder.py's algorithm as OpenAI published it (the regex, the
byte symbols, the BPE loop), with one extension: input bytes that are not UTF-8 are decoded with
"surrogateescape", so each invalid byte is a character of its own that is neither letter, number
nor whitespace -- the rule the C++ tokenizer follows -- and the reference has ids for those
strings too.

The `regex` module carries its own Unicode data, usually newer than the C++ tables
(core/src/tokenizer/unicode_tables.cpp, from unicodedata); the script refuses a case string with
a character the two classify differently, so the expected ids do not depend on the version.
"""

import json
import pathlib
import unicodedata
from collections import Counter

import regex

DATA = pathlib.Path(__file__).resolve().parent / "data"

PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

END_OF_TEXT = "<|endoftext|>"

# The training text: letters beyond ASCII, digits of several scripts, punctuation, contractions,
# runs of spaces and newlines, tabs, emoji.
CORPUS = """The trellis holds the vine while it grows; so does a plan. It's true: they're
tokens, we've seen them, I'm sure you'll agree, and he'd say so too. Don't they?

Numbers: 12345, 3.14159, 2024-03-28, 1,000,000 and ٣٤٥ and ½ and Ⅻ.
Naïve café owners in Zürich serve crème brûlée; Ærøskøbing is in Danmark.
Ελληνικά γράμματα, русский язык, 日本語のテキスト, 한국어 문장.
Emoji: 🙂 🚀🚀 👍🏽 and ❤️ -- all bytes.
    Indented line with    runs   of     spaces.
\tA tab, then\t\ttwo.


Three newlines above; trailing spaces here:   
the the the then there these those thing things think thinking thought.
"Quotes", (parentheses), [brackets], {braces} -- and... ellipses!!! ???
Contractions again: it's, IT'S, I'd, we'll, you've, they're, she'd've.
"""

MERGES = 180

# Strings whose ids the tests check: the corpus, its pieces and everything the pattern treats
# specially, as bytes.
CASES = [
    b"",
    b"a",
    b" ",
    b"Hello world",
    b"the then there these those",
    b"It's they're we've I'm you'll he'd don't",
    b"'S 'T 'RE 'x ''s '",
    b"12345 3.14159 x2 2x 0007",
    b"a   b    c",
    b"end with spaces   ",
    b"   leading spaces",
    b"\n\n\nthree newlines",
    b"line one\nline two\r\nline three",
    b"\ttab\t\ttabs \t mixed",
    b" \n \n",
    b"!!! ??? ... -- (x) [y] {z}",
    b"<|endoftext|>",
    b"a<|endoftext|>b",
    b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    b"!" * 300,
    b"thethethethethethethethethethe" * 10,
    b"    " * 40 + b"x",
    "Naïve café in Zürich: crème brûlée".encode(),
    "Ærøskøbing, Ελληνικά, русский, 日本語のテキスト, 한국어".encode(),
    "Emoji 🙂🚀 👍🏽 ❤️!".encode(),
    "٣٤٥ ½ Ⅻ ¹²³".encode(),
    # A combining mark (U+0301) is neither letter nor number: it splits the word.
    "cafe\u0301 nai\u0308ve".encode(),
    # Whitespace beyond ASCII: NBSP, ideographic space, line separator, NEL, thin space.
    "a\u00a0b\u3000c\u2028d\u0085e\u2009f".encode(),
    "word\u00a0 \u00a0word  \u3000".encode(),
    # U+001C..U+001F: whitespace to str.isspace() but not to the regex module's \s.
    "a\u001cb \u001fc".encode(),
    CORPUS.encode(),
    # Bytes that are not UTF-8: each one a character of its own.
    b"\xff\xfe abc",
    b"abc\xc3",
    b"\xe2\x82A",
    b"\xc0\xaf overlong",
    b"\xed\xa0\x80 surrogate",
    b"\xf4\x90\x80\x80 past U+10FFFF",
    b"\x80\x80\x80 continuations",
    b"caf\xc3\xa9\xc3 \xa9 mixed",
    b" \xff",
    b"\x00\x01\x02 controls \x7f",
]


def bytes_to_unicode():
    """OpenAI's table: byte -> printable character."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENCODER = bytes_to_unicode()


def get_pairs(word):
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


class Encoder:
    """encoder.py's Encoder, over bytes (see the module's docstring)."""

    def __init__(self, encoder, bpe_merges):
        self.encoder = encoder
        self.bpe_ranks = dict(zip(bpe_merges, range(len(bpe_merges))))

    def bpe(self, token):
        word = tuple(token)
        pairs = get_pairs(word)
        if not pairs:
            return token
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        return " ".join(word)

    def encode(self, data):
        text = data.decode("utf-8", errors="surrogateescape")
        ids = []
        for token in regex.findall(PATTERN, text):
            raw = token.encode("utf-8", errors="surrogateescape")
            token = "".join(BYTE_ENCODER[b] for b in raw)
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids


def train_bpe(text, merges):
    """Merges, most frequent pair first (ties: the larger pair), over the pattern's pieces."""
    words = Counter(
        tuple(BYTE_ENCODER[b] for b in piece.encode()) for piece in regex.findall(PATTERN, text))
    out = []
    for _ in range(merges):
        pairs = Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = max(pairs, key=lambda pair: (pairs[pair], pair))
        if pairs[best] < 2:
            break
        out.append(best)
        merged = Counter()
        for word, count in words.items():
            new_word, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    new_word.append(word[i] + word[i + 1])
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            merged[tuple(new_word)] += count
        words = merged
    return out


def vocabulary(merges):
    """The 256 byte tokens in table order, each merge's token (once), then <|endoftext|>."""
    vocab = {}
    for symbol in BYTE_ENCODER.values():
        vocab[symbol] = len(vocab)
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    vocab[END_OF_TEXT] = len(vocab)
    return vocab


def regex_class(ch):
    for name, pattern in (("letter", r"\p{L}"), ("number", r"\p{N}"), ("whitespace", r"\s")):
        if regex.match(pattern, ch):
            return name
    return "other"


def unicodedata_class(ch):
    """As core/src/tokenizer/unicode_tables.cpp classifies (its generator's rules)."""
    if regex.match(r"\s", ch):  # the White_Space property, the same in both
        return "whitespace"
    category = unicodedata.category(ch)
    return {"L": "letter", "N": "number"}.get(category[0], "other")


def check_version_independent(case):
    for ch in case.decode("utf-8", errors="surrogateescape"):
        if 0xDC80 <= ord(ch) <= 0xDCFF:
            continue  # an invalid byte
        if regex_class(ch) != unicodedata_class(ch):
            raise SystemExit(f"U+{ord(ch):04X} is classified differently by the regex module "
                             f"and unicodedata {unicodedata.unidata_version}: leave it out")


def write_data(folder, vocab, merges, cases):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0) + "\n",
                                       encoding="utf-8")
    (folder / "merges.txt").write_text(
        "#version: 0.2\n" + "".join(f"{left} {right}\n" for left, right in merges),
        encoding="utf-8")
    encoder = Encoder(vocab, merges)
    lines = []
    for case in cases:
        check_version_independent(case)
        ids = encoder.encode(case)
        lines.append(case.hex() + "|" + " ".join(map(str, ids)))
    (folder / "cases.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{folder}: {len(vocab)} tokens, {len(merges)} merges, {len(cases)} cases")


def main():
    merges = train_bpe(CORPUS, MERGES)
    write_data(DATA, vocabulary(merges), merges, CASES)

    # Ranks out of creation order: "aa a" (rank 0) can only apply once "a a" (rank 1) has made
    # an "aa". In "aaaaa", round one merges both "a a" pairs ([aa, aa, a]); round two takes
    # "aa a" (rank 0) before "aa aa" (rank 2): [aa, aaa].
    a = BYTE_ENCODER[ord("a")]
    b = BYTE_ENCODER[ord("b")]
    odd = [(a + a, a), (a, a), (a + a, a + a), (b, a), (a + a, b), (a, b)]
    odd_cases = [b"a" * n for n in range(1, 10)] + [b"aab", b"baaab", b"abababa", b"aabaab"]
    write_data(DATA / "unordered", vocabulary(odd), odd, odd_cases)


if __name__ == "__main__":
    main()
