"""``socle content audit``: what an item reviewer checks, measured on the whole bank.

``socle content lint`` says whether the content *can* be loaded; the audit says whether it is
*good*: the test-wiseness cues, repetitions and stale facts that an outside review of the
first bank found by hand (see ``docs/item-writing.md``, which explains each rule and how it is
measured here). It runs on a loaded ``Content`` plus the loader's ``SourceMap`` (to print
``path:line``), reads no file and changes nothing, so every check is a plain function that a
test feeds with a small fixture tree.

Each check reports *findings* (one per challenge, skill, tube or link to fix) and the audit
computes corpus *measures* compared with ``Thresholds`` — the figures of the item-bank
review, kept in one place. Only served challenges (status ``validated``) are audited: they are
what agents see; drafts are work in progress and archives are gone.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from lti_tool.content.loader import SourceMap
from lti_tool.domain.framework import (
    AnswerFormat,
    Challenge,
    ChallengeType,
    Content,
    MultipleChoiceSolution,
    NumberSolution,
    SingleChoiceSolution,
    Text,
)
from lti_tool.domain.units import PRESETS as UNIT_PRESETS


@dataclass(frozen=True, slots=True)
class Thresholds:
    """What the bank must meet for ``--strict`` (the figures of the item-bank review).

    Ratios are shares of the served challenges of the type concerned; ``*_max`` counts are
    numbers of findings allowed; ``min_*`` are volumes the bank must reach.
    """

    #: The key of a qcu is the single longest proposal. By chance it would be in about 1 qcu
    #: out of n proposals (25 % with 4); the first bank had 64 %. Above 30 %, agents learn
    #: that "the longest is right".
    qcu_key_longest_max: float = 0.30
    #: The same cue the other way round: authors who avoid a long key overshoot, and « the
    #: shortest is right » pays. Chance is the same 25 % with 4 proposals; not a finding per
    #: challenge (a key may be the shortest), a share of the bank.
    qcu_key_shortest_max: float = 0.35
    #: Authors who keep the key from being the longest or the shortest pile it on the middle
    #: ranks: « drop the longest and the shortest » then pays. Chance, with 4 proposals: 50 %.
    qcu_key_middle_max: float = 0.60
    #: The correct proposals of a qcm are longer on average than the wrong ones. Chance is
    #: about 50 % (equal lengths on average); the first bank had 82 %.
    qcm_keys_longer_max: float = 0.50
    #: The same cue reversed: authors who avoid long keys overshoot and « tick the short
    #: ones » pays (58 of 70 qcm in December 2026). Chance is the same half.
    qcm_keys_shorter_max: float = 0.55
    #: Every correct proposal shorter than every wrong one: a sharp cue, about 1 qcm in 10 by
    #: chance (1 / C(n, k): 10 % for 2 or 3 of 5); 21 of 70 in December 2026.
    qcm_keys_all_shorter_max: float = 0.15
    #: No single "k correct out of n" combination in more than 40 % of qcm (the first bank had
    #: 35 of 51 qcm at "3 of 5": an agent who ticks three boxes is right more often).
    qcm_combination_max: float = 0.40
    #: Absolute words (« toujours », « jamais », « rien », « tous »…) sit in distractors far
    #: more often than in keys (20 % of distractors, 7 % of keys in December 2026), so « drop
    #: the proposals that say always or never » pays: a guesser who does it on every qcu
    #: scored 29.3 % against 25.0 % by chance. The gain of that guesser over chance, in
    #: points, is kept under this limit (0 when such words are spread as keys are).
    qcu_absolute_guess_gain_max: float = 0.015
    #: Jaccard similarity of the word shingles (see ``challenge_words``) at or above which
    #: two challenges are near-duplicates. Calibrated on the first bank: the six duplicate
    #: pairs a reviewer found score 0.35–0.77, and at 0.35 the other pairs flagged were
    #: duplicates too but for one.
    near_duplicate_similarity: float = 0.35
    #: Challenges built on the same file or picture form a series on purpose (several
    #: questions on one spreadsheet); they are near-duplicates only when far more alike.
    same_material_similarity: float = 0.60
    near_duplicate_pairs_max: int = 0
    outdated_domains_max: int = 0
    home_page_links_max: int = 0
    missing_units_max: int = 0
    #: A retake must meet new challenges: every skill needs at least this many.
    min_challenges_per_skill: int = 3
    thin_skills_max: int = 0
    tubes_with_gaps_max: int = 0
    office_without_odf_max: int = 0
    duplicate_field_labels_max: int = 0
    cross_references_max: int = 0
    qcm_without_notice_max: int = 0
    #: A qcm shown in a fixed order must not list every correct proposal first (the fourth
    #: review found « three right, then three wrong »). A fixed order is otherwise legitimate
    #: when it follows a file, a page or a numbering (« Référence n° 1… »).
    keys_first_max: int = 0
    #: Depth: every competence has 4 tubes and reaches level 6; six reach level 7.
    min_tubes_per_competence: int = 4
    min_top_level: int = 6
    level_seven_competences_min: int = 6
    #: Volume of the whole bank (order of magnitude set by the review).
    min_tubes: int = 64
    min_skills: int = 380
    min_challenges: int = 1150
    min_file_challenges: int = 80


DEFAULT_THRESHOLDS = Thresholds()

#: Domains that moved or never existed, with the right one. A phishing challenge that needs a
#: fake address uses a fictional domain (``.example``, an invented commune), never these.
OUTDATED_DOMAINS: Mapping[str, str] = {
    "service-public.fr": "service-public.gouv.fr (since 2024)",
    "ssi.gouv.fr": "cyber.gouv.fr (ANSSI's site since 2024)",
    "agentconnect.gouv.fr": "proconnect.gouv.fr (AgentConnect became ProConnect in 2024)",
    "pole-emploi.fr": "francetravail.fr (since 2024)",
    "hadopi.fr": "arcom.fr (Hadopi and the CSA merged into Arcom in 2022)",
    "csa.fr": "arcom.fr (Hadopi and the CSA merged into Arcom in 2022)",
    "references.modernisation.gouv.fr": "accessibilite.numerique.gouv.fr (RGAA)",
    "cnil.gouv.fr": "cnil.fr (the CNIL's site is not under gouv.fr)",
    "ameli.gouv.fr": "ameli.fr",
}
#: Paths that are a site's home page: a tutorial link must go to the exact page.
HOME_PATHS = frozenset({"", "/", "/fr", "/fr/", "/en", "/en/", "/accueil", "/index.html"})
#: Proprietary office formats and the ODF family that must be attached beside them.
ODF_ALTERNATIVE: Mapping[str, tuple[str, ...]] = {
    ".xlsx": (".ods", ".fods"),
    ".xls": (".ods", ".fods"),
    ".docx": (".odt", ".fodt"),
    ".doc": (".odt", ".fodt"),
    ".pptx": (".odp", ".fodp"),
    ".ppt": (".odp", ".fodp"),
}
#: Word shingles of this many words. A duplicate is usually *reworded* (« le tableur » /
#: « une feuille de calcul », the same figures in another order): longer shingles missed all
#: six duplicates of the first bank (3 words: Jaccard 0.10–0.19, below unrelated pairs), bags
#: of stemmed content words found them.
SHINGLE_WORDS = 1
#: Words are cut to this many letters (a light stemmer: « sauvegarde », « sauvegardés » and
#: « sauvegarder » count as one word).
STEM_LETTERS = 5
#: French function words, left out of the shingles: they say nothing of the scenario.
STOPWORDS = frozenset(
    """a ai au aux avec c ce ceci cela ces cet cette ci d dans de des du elle elles en est et
    etre eu il ils j je l la le les leur leurs lui m ma mais me meme mes moi mon n ne ni nos
    notre nous on ont ou par pas peu peut plus pour qu que quel quelle quelles quels qui s sa
    sans se ses si son sont sous sur t ta te tes toi ton tous tout toute toutes tu un une vos
    votre vous y""".split()  # noqa: SIM905 - a word list reads better as words
)

_URL = re.compile(r"https?://[^\s)>\]\"'»]+", re.IGNORECASE)
_HOST = re.compile(r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})(?![\w-])")
_WORD = re.compile(r"[a-z0-9]+")
_MARKUP = re.compile(r"[*_`#>\[\]()]|!\[[^\]]*\]")
_SPACES = re.compile(r"\s+")
_UNIT_WORDS = sorted(
    {
        word
        for spellings in UNIT_PRESETS.values()
        for word in (_SPACES.sub(" ", s.casefold()) for s in spellings)
        if len(word) >= 2 or not word.isalpha()
    }
    | {"annee", "annees", "pourcentage", "octets", "caracteres", "lignes", "pages"},
    key=len,
    reverse=True,
)
#: « en euros », « en Mo », « combien de jours », « nombre de lignes »: an amount or a count.
_ASKS_UNIT = re.compile(
    r"\ben (?:" + "|".join(re.escape(w) for w in _UNIT_WORDS) + r")(?![a-z])"
    r"|\bcombien\b|\bnombre (?:de|d')|\bquel(?:le)? (?:montant|duree|delai|poids|taille)\b"
)
#: A challenge that leans on another one the agent may never have seen.
_CROSS_REFERENCE = re.compile(
    r"\b(?:question|epreuve|exercice|situation)s? (?:precedente?s?|d'avant|anterieure?s?"
    r"|ci-dessus)\b|\bcomme (?:a|dans) la question\b|\bprecedemment\b"
    r"|\b(?:le|la|les) memes? (?:fichier|inventaire|tableau|document|message|courriel|liste"
    r"|capture|image|situation|scenario)s?\b"
)
_MULTIPLE_NOTICE = re.compile(r"plusieurs (?:reponses|propositions)")

#: Words that make a proposal an absolute claim, on folded text (see ``fold``); the test-wise
#: reflex « an answer that says always or never is wrong » looks for them. « tout » in
#: set phrases that claim nothing (« tout de suite », « tout à fait », « tout seul »,
#: « avant tout », « tout en », « en tout ») does not count.
_ABSOLUTE = re.compile(
    r"\b(?:toujours|jamais|rien|aucun|aucune|tous|toutes|seulement|uniquement|exclusivement"
    r"|obligatoirement|systematiquement|forcement|necessairement|en aucun cas"
    r"|quel(?:le)?s? que soi(?:t|ent)|n'importe"
    r"|tout(?! de suite\b| a fait\b| en\b| seule?s?\b)(?<!\bavant tout)(?<!\ben tout))\b"
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to fix, at a place in a file."""

    check: str
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        place = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{place}: {self.check}: {self.message}"


@dataclass(frozen=True, slots=True)
class Measure:
    """One corpus figure, its limit and whether it is met."""

    name: str
    value: str
    limit: str
    ok: bool


@dataclass(frozen=True, slots=True)
class CompetenceRow:
    """Depth of one competence."""

    code: str
    title: str
    tubes: int
    skills: int
    challenges: int
    file_challenges: int
    max_level: int


@dataclass(frozen=True, slots=True)
class TubeRow:
    """Levels of one tube."""

    tube: str
    competence: str
    levels: tuple[int, ...]
    challenges: int


@dataclass(frozen=True, slots=True)
class KeyRankRow:
    """Where the key of 4-proposal qcu falls when the proposals are ranked by length.

    ``ranks[0]`` counts keys that are the longest (ties share the better rank), ``ranks[3]``
    the shortest. By chance each rank holds about a quarter; a pile on ranks 2-3 is the
    "middle length" cue (the key is rarely the longest nor the shortest). Report only.
    """

    scope: str
    ranks: tuple[int, int, int, int]

    @property
    def total(self) -> int:
        """qcu counted in this row."""
        return sum(self.ranks)


@dataclass(slots=True)
class AuditReport:
    """Everything the audit found, ready to print as text or JSON."""

    findings: list[Finding] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    competences: list[CompetenceRow] = field(default_factory=list)
    tubes: list[TubeRow] = field(default_factory=list)
    types: dict[str, int] = field(default_factory=dict)
    near_duplicates: list[tuple[str, str, float]] = field(default_factory=list)
    key_length_ranks: list[KeyRankRow] = field(default_factory=list)

    @property
    def failures(self) -> list[Measure]:
        """The measures whose threshold is not met."""
        return [measure for measure in self.measures if not measure.ok]

    def as_json(self) -> dict[str, object]:
        """A JSON-ready dictionary (``socle content audit --format json``)."""
        return {
            "ok": not self.failures,
            "findings": [asdict(finding) for finding in self.findings],
            "measures": [asdict(measure) for measure in self.measures],
            "competences": [asdict(row) for row in self.competences],
            "tubes": [asdict(row) for row in self.tubes],
            "types": self.types,
            "near_duplicates": [
                {"first": a, "second": b, "similarity": round(s, 3)}
                for a, b, s in self.near_duplicates
            ],
            "qcu_key_length_ranks": [
                {"scope": row.scope, "ranks": list(row.ranks)} for row in self.key_length_ranks
            ],
        }


# --- text helpers ---------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case, no accents, typographic apostrophes plain, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", plain.replace("œ", "oe").replace("æ", "ae")).strip()


def visible_length(text: Text) -> int:
    """Length of a proposal as an agent sees it (French, Markdown marks removed)."""
    return len(_SPACES.sub(" ", _MARKUP.sub("", text.fr)).strip())


def challenge_words(challenge: Challenge) -> list[str]:
    """Stemmed content words of what an agent reads: instruction, proposals, field labels."""
    parts = [challenge.instruction.fr]
    parts.extend(proposal.fr for proposal in challenge.proposals)
    parts.extend(f.label.fr for f in challenge.fields)
    return [
        word[:STEM_LETTERS]
        for word in _WORD.findall(fold(" ".join(parts)))
        if word not in STOPWORDS
    ]


def material(challenge: Challenge) -> frozenset[str]:
    """The files a challenge is built on (attachments and illustration)."""
    files = set(challenge.attachments)
    if challenge.illustration is not None:
        files.add(challenge.illustration.file)
    return frozenset(files)


def shingles(words: Sequence[str], size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    """Word n-grams (the whole text as one shingle when it is shorter than ``size``)."""
    if len(words) < size:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def jaccard(first: frozenset[tuple[str, ...]], second: frozenset[tuple[str, ...]]) -> float:
    """|A ∩ B| / |A ∪ B| (0 for two empty sets)."""
    shared = len(first & second)
    union = len(first) + len(second) - shared
    return shared / union if union else 0.0


def hosts(text: str) -> Iterator[str]:
    """Domain names written in ``text`` (in URLs or bare), lower case, without ``www.``."""
    for match in _HOST.finditer(text.casefold()):
        host = match.group(1)
        yield host[4:] if host.startswith("www.") else host


def outdated(host: str) -> str | None:
    """The replacement of an outdated or wrong domain (or of its parent), else ``None``."""
    for domain, replacement in OUTDATED_DOMAINS.items():
        if host == domain or host.endswith("." + domain):
            return replacement
    return None


def is_home_page(url: str) -> bool:
    """Whether ``url`` points at a site's home page rather than at a page."""
    parts = urlsplit(url)
    return parts.path.rstrip() in HOME_PATHS and not parts.query and not parts.fragment


# --- the audit ------------------------------------------------------------------------------


class _Places:
    def __init__(self, places: SourceMap) -> None:
        self.places = places

    def of(self, kind: str, key: str) -> tuple[str, int | None]:
        mapping: Mapping[str, tuple[str, int]] = getattr(self.places, kind)
        place = mapping.get(key)
        return (place[0], place[1]) if place else ("?", None)


def audit(
    content: Content, places: SourceMap | None = None, thresholds: Thresholds | None = None
) -> AuditReport:
    """Run every check on ``content``; findings sorted by file and line."""
    limits = thresholds or DEFAULT_THRESHOLDS
    where = _Places(places or SourceMap())
    report = AuditReport()
    served = [c for c in content.challenges.values() if c.is_served]

    def add(check: str, kind: str, key: str, message: str) -> None:
        path, line = where.of(kind, key)
        report.findings.append(Finding(check, path, line, message))

    counts: Counter[str] = Counter()
    qcu = [c for c in served if c.type is ChallengeType.QCU]
    qcm = [c for c in served if c.type is ChallengeType.QCM]
    guessed = chance = 0.0  # summed over the qcu: the absolute-word guesser, a blind guess
    for challenge in qcu:
        guesses = qcu_absolute_guess(challenge)
        if guesses is not None:
            guessed += guesses[0]
            chance += guesses[1]
        if qcu_key_uniquely_shortest(challenge):
            counts["qcu-shortest"] += 1
        if qcu_key_uniquely_longest(challenge):
            counts["qcu-longest"] += 1
        if guesses is not None and guesses[0] >= ABSOLUTE_CUE_FACTOR * guesses[1]:
            add(
                "absolute-cue",
                "challenges",
                challenge.id,
                f"{challenge.id}: the distractors say « toujours, jamais, rien, tous… » and the "
                f"key does not: dropping them finds the key {100 * guesses[0]:.0f} % of the "
                "time; make the distractors wrong by their substance, not by an absolute word",
            )
        if qcu_key_far_longest(challenge):
            add(
                "length-cue",
                "challenges",
                challenge.id,
                f"{challenge.id}: the correct proposal is longer than every other by a fifth or "
                "more; lengthen a distractor or shorten the key",
            )
    combinations_seen: Counter[tuple[int, int]] = Counter()
    for challenge in qcm:
        combinations_seen[k_of_n(challenge)] += 1
        if qcm_keys_shorter(challenge):
            counts["qcm-shorter"] += 1
        if qcm_keys_all_shorter(challenge):
            counts["qcm-all-shorter"] += 1
            add(
                "length-cue",
                "challenges",
                challenge.id,
                f"{challenge.id}: every correct proposal is shorter than every wrong one; "
                "lengthen a key or shorten a distractor",
            )
        if qcm_keys_longer(challenge):
            counts["qcm-longer"] += 1
        if qcm_keys_much_longer(challenge):
            add(
                "length-cue",
                "challenges",
                challenge.id,
                f"{challenge.id}: the correct proposals are longer than the wrong ones (by a "
                f"fifth or more on average, or every one); lengthen a distractor or shorten a key",
            )
        if not _MULTIPLE_NOTICE.search(fold(challenge.instruction.fr)):
            counts["qcm-notice"] += 1
            add(
                "qcm-notice",
                "challenges",
                challenge.id,
                f"{challenge.id}: say « Plusieurs réponses sont possibles. » in a qcm",
            )
        if keys_first(challenge):
            counts["keys-first"] += 1
            add(
                "keys-first",
                "challenges",
                challenge.id,
                f"{challenge.id}: shown in a fixed order with every correct proposal before "
                "the wrong ones: add « shuffle: true » (or order the proposals as the file does)",
            )
    for challenge in served:
        for check, message in _challenge_problems(challenge):
            counts[check] += 1
            add(check, "challenges", challenge.id, f"{challenge.id}: {message}")
    for first, second, similarity in near_duplicates(
        served, limits.near_duplicate_similarity, limits.same_material_similarity
    ):
        report.near_duplicates.append((first, second, similarity))
        path, line = where.of("challenges", second)
        report.findings.append(
            Finding(
                "near-duplicate",
                path,
                line,
                f"{second} is a near-duplicate of {first} (at "
                f"{_place_text(where.of('challenges', first))}; similarity "
                f"{similarity:.2f}): change the scenario or the point measured",
            )
        )
    for tutorial in content.tutorials.values():
        for check, message in _tutorial_problems(tutorial.url, tutorial.body):
            counts[check] += 1
            add(check, "tutorials", tutorial.id, f"tutorial '{tutorial.id}': {message}")
    for skill in content.skills.values():
        number = len(skill.served_challenges)
        if number < limits.min_challenges_per_skill:
            counts["thin-skill"] += 1
            add(
                "thin-skill",
                "skills",
                skill.id,
                f"skill '{skill.id}' has {number} served challenge(s); "
                f"{limits.min_challenges_per_skill} needed so a retake meets new ones",
            )
    for tube in sorted(content.tubes.values(), key=lambda t: t.id):
        levels = tuple(skill.level for skill in tube.skills)
        report.tubes.append(
            TubeRow(
                tube.id,
                tube.competence_code,
                levels,
                sum(len(s.served_challenges) for s in tube.skills),
            )
        )
        missing = level_gaps(levels)
        if missing:
            counts["level-gap"] += 1
            add(
                "level-gap",
                "tubes",
                tube.id,
                f"tube '{tube.id}' has levels {_levels_text(levels)}: level(s) "
                f"{', '.join(map(str, missing))} missing",
            )
    _depth(content, report)
    _key_ranks(content, report)
    report.types = dict(sorted(Counter(c.type.value for c in served).items()))
    report.findings.sort(key=lambda f: (f.path, f.line or 0, f.check, f.message))
    report.measures = _measures(
        report, limits, counts, len(qcu), len(qcm), combinations_seen, served, (guessed, chance)
    )
    return report


def _place_text(place: tuple[str, int | None]) -> str:
    path, line = place
    return path if line is None else f"{path}:{line}"


def _levels_text(levels: Sequence[int]) -> str:
    return ", ".join(map(str, levels))


def _qcu_key_and_distractor_lengths(challenge: Challenge) -> tuple[int, list[int]] | None:
    """Visible length of a qcu's key and of each distractor; ``None`` for anything else."""
    solution = challenge.solution
    if not isinstance(solution, SingleChoiceSolution) or len(challenge.proposals) < 2:
        return None
    lengths = [visible_length(p) for p in challenge.proposals]
    key = lengths.pop(solution.index - 1)
    return key, lengths


def qcu_key_uniquely_longest(challenge: Challenge) -> bool:
    """Whether the key of a qcu is strictly longer than every distractor."""
    measured = _qcu_key_and_distractor_lengths(challenge)
    return measured is not None and all(measured[0] > other for other in measured[1])


#: A qcu's key this many times as long as its longest distractor stands out on its own; a key
#: a few characters longer than the rest does not (the share of single longest keys is
#: measured for the bank, and a bank where the key is never the longest has the opposite cue).
QCU_FAR_LONGER = 1.2


def qcu_key_far_longest(challenge: Challenge) -> bool:
    """Whether the key of a qcu is longer than every distractor by ``QCU_FAR_LONGER``."""
    measured = _qcu_key_and_distractor_lengths(challenge)
    return measured is not None and measured[0] >= QCU_FAR_LONGER * max(measured[1])


def qcu_key_uniquely_shortest(challenge: Challenge) -> bool:
    """Whether the key of a qcu is strictly shorter than every distractor."""
    measured = _qcu_key_and_distractor_lengths(challenge)
    return measured is not None and all(measured[0] < other for other in measured[1])


def is_absolute(text: str) -> bool:
    """Whether a proposal makes an absolute claim (``_ABSOLUTE``: always, never, nothing…)."""
    return _ABSOLUTE.search(fold(_MARKUP.sub("", text))) is not None


#: A qcu whose absolute proposals are distractors enough for the guesser of
#: ``qcu_absolute_guess`` to find the key this many times as often as chance (two of three
#: distractors, with 4 proposals) is a finding on its own.
ABSOLUTE_CUE_FACTOR = 2.0


def qcu_absolute_guess(challenge: Challenge) -> tuple[float, float] | None:
    """Chance that a guesser who drops every absolute proposal finds a qcu's key, and the
    chance of a blind guess; ``None`` for anything but a qcu.

    The guesser picks at random among the proposals without an absolute word (among all of
    them when every proposal has one, or none has).
    """
    solution = challenge.solution
    if not isinstance(solution, SingleChoiceSolution) or not challenge.proposals:
        return None
    count = len(challenge.proposals)
    kept = [i for i, p in enumerate(challenge.proposals, start=1) if not is_absolute(p.fr)]
    kept = kept or list(range(1, count + 1))
    return (1 / len(kept) if solution.index in kept else 0.0), 1 / count


def qcu_key_length_rank(challenge: Challenge) -> int | None:
    """Rank of a qcu's key by visible length: 1 + the number of strictly longer proposals.

    1 is the longest (shared when tied), ``len(proposals)`` the strictly shortest; ``None``
    for anything but a qcu.
    """
    solution = challenge.solution
    if not isinstance(solution, SingleChoiceSolution) or not challenge.proposals:
        return None
    lengths = [visible_length(p) for p in challenge.proposals]
    key = lengths[solution.index - 1]
    return 1 + sum(1 for length in lengths if length > key)


def _qcm_key_and_distractor_lengths(
    challenge: Challenge,
) -> tuple[list[int], list[int]] | None:
    """Visible lengths of a qcm's correct and wrong proposals; ``None`` when either is empty
    or the challenge is not a qcm."""
    solution = challenge.solution
    if not isinstance(solution, MultipleChoiceSolution):
        return None
    right = [
        visible_length(p) for i, p in enumerate(challenge.proposals, 1) if i in solution.indexes
    ]
    wrong = [
        visible_length(p) for i, p in enumerate(challenge.proposals, 1) if i not in solution.indexes
    ]
    return (right, wrong) if right and wrong else None


def qcm_keys_longer(challenge: Challenge) -> bool:
    """Whether the correct proposals of a qcm are longer on average than the wrong ones."""
    measured = _qcm_key_and_distractor_lengths(challenge)
    if measured is None:
        return False
    right, wrong = measured
    return sum(right) / len(right) > sum(wrong) / len(wrong)


#: A qcm's keys longer on average than its distractors by this factor (or every key longer
#: than every distractor) are a finding; a few characters either way are not a cue, and the
#: share of qcm whose keys are longer at all is measured for the bank.
QCM_MUCH_LONGER = 1.2


def qcm_keys_much_longer(challenge: Challenge) -> bool:
    """Whether a qcm's keys stand out by length: longer on average by ``QCM_MUCH_LONGER`` or
    more, or every one longer than every distractor."""
    measured = _qcm_key_and_distractor_lengths(challenge)
    if measured is None:
        return False
    right, wrong = measured
    return min(right) > max(wrong) or sum(right) / len(right) >= QCM_MUCH_LONGER * (
        sum(wrong) / len(wrong)
    )


def qcm_keys_shorter(challenge: Challenge) -> bool:
    """Whether the correct proposals of a qcm are shorter on average than the wrong ones."""
    measured = _qcm_key_and_distractor_lengths(challenge)
    if measured is None:
        return False
    right, wrong = measured
    return sum(right) / len(right) < sum(wrong) / len(wrong)


def qcm_keys_all_shorter(challenge: Challenge) -> bool:
    """Whether every correct proposal of a qcm is strictly shorter than every wrong one."""
    measured = _qcm_key_and_distractor_lengths(challenge)
    return measured is not None and max(measured[0]) < min(measured[1])


def keys_first(challenge: Challenge) -> bool:
    """Whether a qcm shown in a fixed order lists every correct proposal before the wrong
    ones (a cue: « tick the first ones »)."""
    solution = challenge.solution
    if challenge.shuffle or not isinstance(solution, MultipleChoiceSolution):
        return False
    count = len(solution.indexes)
    return 0 < count < len(challenge.proposals) and set(solution.indexes) == set(
        range(1, count + 1)
    )


def k_of_n(challenge: Challenge) -> tuple[int, int]:
    """(number of correct proposals, number of proposals) of a qcm."""
    solution = challenge.solution
    correct = len(solution.indexes) if isinstance(solution, MultipleChoiceSolution) else 0
    return correct, len(challenge.proposals)


def level_gaps(levels: Iterable[int]) -> list[int]:
    """Levels missing between a tube's lowest and highest skill."""
    present = sorted(set(levels))
    if not present:
        return []
    return [level for level in range(present[0], present[-1] + 1) if level not in present]


def _texts(challenge: Challenge) -> Iterator[str]:
    yield challenge.instruction.fr
    if challenge.instruction.en:
        yield challenge.instruction.en
    for text in (*challenge.proposals, *(f.label for f in challenge.fields)):
        yield text.fr
    if challenge.hint is not None:
        yield challenge.hint.fr


def _challenge_problems(challenge: Challenge) -> Iterator[tuple[str, str]]:
    """Per-challenge checks other than the length cues."""
    for text in _texts(challenge):
        for host in sorted(set(hosts(text))):
            replacement = outdated(host)
            if replacement:
                yield "outdated-domain", f"mentions {host}: write {replacement}"
    instruction = fold(challenge.instruction.fr)
    if (
        challenge.type is ChallengeType.QROC
        and challenge.answer_format is AnswerFormat.NUMBER
        and isinstance(challenge.solution, NumberSolution)
        and not challenge.solution.units
        and _ASKS_UNIT.search(instruction)
    ):
        yield (
            "missing-unit",
            "the instruction asks for an amount or a count but no 'unit' is declared, so "
            "« 4 € » or « 3 personnes » would be refused",
        )
    if _CROSS_REFERENCE.search(instruction):
        yield "cross-reference", "refers to another challenge the agent may never have seen"
    labels = Counter(fold(f.label.fr) for f in challenge.fields)
    for label, number in sorted(labels.items()):
        if number > 1:
            yield "duplicate-label", f"{number} fields have the same label « {label} »"
    suffixes = {PurePosixPath(a).suffix.lower() for a in challenge.attachments}
    for attachment in challenge.attachments:
        alternatives = ODF_ALTERNATIVE.get(PurePosixPath(attachment).suffix.lower())
        if alternatives and not suffixes & set(alternatives):
            yield (
                "no-odf",
                f"{attachment} has no OpenDocument alternative ({alternatives[0]}) attached",
            )


def _tutorial_problems(url: str | None, body: Text | None) -> Iterator[tuple[str, str]]:
    links = [url] if url else []
    texts = [url] if url else []
    if body is not None:
        links.extend(_URL.findall(body.fr))
        texts.append(body.fr)
    for text in texts:
        for host in sorted(set(hosts(text))):
            replacement = outdated(host)
            if replacement:
                yield "outdated-domain", f"mentions {host}: write {replacement}"
    for link in dict.fromkeys(links):
        if is_home_page(link):
            yield "home-page-link", f"links to the home page {link}: link the exact page"


def near_duplicates(
    challenges: Sequence[Challenge], threshold: float, same_material: float = 1.0
) -> list[tuple[str, str, float]]:
    """Pairs of challenges whose word-shingle Jaccard similarity is at least ``threshold``
    (``same_material`` for two challenges of different skills built on a common file: a series
    of questions on one spreadsheet is intended; two of the same skill are what a retake
    shows, so they keep ``threshold``).

    Exact, without comparing every pair: a *prefix filter* (Bayardo et al., "Scaling up all
    pairs similarity search", WWW 2007). Order each set's shingles from the rarest in the bank
    to the most common; two sets with Jaccard ≥ t always share one of the first
    ``n - ceil(t·n) + 1`` shingles of each, so only pairs sharing such a "prefix" shingle are
    compared. Pairs come in id order, most similar first.
    """
    sets = {c.id: shingles(challenge_words(c)) for c in challenges}
    frequency: Counter[tuple[str, ...]] = Counter()
    for shingle_set in sets.values():
        frequency.update(shingle_set)
    index: defaultdict[tuple[str, ...], list[str]] = defaultdict(list)
    candidates: set[tuple[str, str]] = set()
    for challenge_id in sorted(sets):
        ordered = sorted(sets[challenge_id], key=lambda s: (frequency[s], s))
        prefix = len(ordered) - math.ceil(threshold * len(ordered)) + 1
        for shingle in ordered[:prefix]:
            for other in index[shingle]:
                candidates.add((other, challenge_id))
            index[shingle].append(challenge_id)
    by_id = {c.id: c for c in challenges}
    pairs = []
    for first, second in candidates:
        sizes = sorted((len(sets[first]), len(sets[second])))
        if sizes[0] < threshold * sizes[1]:  # Jaccard ≤ smaller / larger: cannot reach it
            continue
        similarity = jaccard(sets[first], sets[second])
        if similarity < threshold:
            continue
        if (
            similarity < same_material
            and material(by_id[first]) & material(by_id[second])
            and by_id[first].skill_id != by_id[second].skill_id
        ):
            continue
        pairs.append((first, second, similarity))
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))


def _depth(content: Content, report: AuditReport) -> None:
    for competence in content.iter_competences():
        tubes = content.tubes_of_competence(competence.code)
        skills = [skill for tube in tubes for skill in tube.skills]
        challenges = [c for skill in skills for c in skill.served_challenges]
        report.competences.append(
            CompetenceRow(
                code=competence.code,
                title=competence.title.fr,
                tubes=len(tubes),
                skills=len(skills),
                challenges=len(challenges),
                file_challenges=sum(1 for c in challenges if c.attachments),
                max_level=max((skill.level for skill in skills), default=0),
            )
        )


def _key_ranks(content: Content, report: AuditReport) -> None:
    """Rank of the key by length in the served 4-proposal qcu, per competence and overall."""
    overall = [0, 0, 0, 0]
    for competence in content.iter_competences():
        ranks = [0, 0, 0, 0]
        for tube in content.tubes_of_competence(competence.code):
            for skill in tube.skills:
                for challenge in skill.served_challenges:
                    if challenge.type is not ChallengeType.QCU or len(challenge.proposals) != 4:
                        continue
                    rank = qcu_key_length_rank(challenge)
                    if rank is not None:
                        ranks[rank - 1] += 1
                        overall[rank - 1] += 1
        report.key_length_ranks.append(KeyRankRow(competence.code, _four(ranks)))
    report.key_length_ranks.append(KeyRankRow("all", _four(overall)))


def _four(counts: Sequence[int]) -> tuple[int, int, int, int]:
    return (counts[0], counts[1], counts[2], counts[3])


def _ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f} %)" if whole else "0/0"


def _measures(  # noqa: PLR0917 - private, one call site
    report: AuditReport,
    limits: Thresholds,
    counts: Counter[str],
    qcu_total: int,
    qcm_total: int,
    combos: Counter[tuple[int, int]],
    served: Sequence[Challenge],
    absolute_guess: tuple[float, float],
) -> list[Measure]:
    measures: list[Measure] = []

    def share(name: str, part: int, whole: int, limit: float) -> None:
        ok = whole == 0 or part / whole <= limit
        measures.append(Measure(name, _ratio(part, whole), f"≤ {100 * limit:.0f} %", ok))

    def at_most(name: str, value: int, limit: int) -> None:
        measures.append(Measure(name, str(value), f"≤ {limit}", value <= limit))

    def at_least(name: str, value: int, limit: int) -> None:
        measures.append(Measure(name, str(value), f"≥ {limit}", value >= limit))

    share(
        "qcu: key is the single longest",
        counts["qcu-longest"],
        qcu_total,
        limits.qcu_key_longest_max,
    )
    share(
        "qcu: key is the single shortest",
        counts["qcu-shortest"],
        qcu_total,
        limits.qcu_key_shortest_max,
    )
    everywhere = next((row for row in report.key_length_ranks if row.scope == "all"), None)
    if everywhere is not None:
        share(
            "qcu (4 proposals): key 2nd or 3rd by length",
            everywhere.ranks[1] + everywhere.ranks[2],
            everywhere.total,
            limits.qcu_key_middle_max,
        )
    if qcu_total:
        guessed, chance = (total / qcu_total for total in absolute_guess)
        measures.append(
            Measure(
                "qcu: guess dropping « toujours, jamais, rien, tous… »",
                f"{100 * guessed:.1f} % (chance {100 * chance:.1f} %)",
                f"≤ chance + {100 * limits.qcu_absolute_guess_gain_max:.1f} points",
                guessed - chance <= limits.qcu_absolute_guess_gain_max,
            )
        )
    share(
        "qcm: keys longer than distractors",
        counts["qcm-longer"],
        qcm_total,
        limits.qcm_keys_longer_max,
    )
    share(
        "qcm: keys shorter than distractors",
        counts["qcm-shorter"],
        qcm_total,
        limits.qcm_keys_shorter_max,
    )
    share(
        "qcm: every key shorter than every distractor",
        counts["qcm-all-shorter"],
        qcm_total,
        limits.qcm_keys_all_shorter_max,
    )
    if combos:
        (k, n), top = combos.most_common(1)[0]
        name = f"qcm: most frequent k of n ({k} of {n})"
    else:
        name, top = "qcm: most frequent k of n", 0
    share(name, top, qcm_total, limits.qcm_combination_max)
    at_most(
        "qcm without « plusieurs réponses »", counts["qcm-notice"], limits.qcm_without_notice_max
    )
    at_most("qcm with every key first, unshuffled", counts["keys-first"], limits.keys_first_max)
    at_most("near-duplicate pairs", len(report.near_duplicates), limits.near_duplicate_pairs_max)
    at_most("outdated or wrong domains", counts["outdated-domain"], limits.outdated_domains_max)
    at_most("links to a home page", counts["home-page-link"], limits.home_page_links_max)
    at_most("numeric answers without unit", counts["missing-unit"], limits.missing_units_max)
    at_most(
        "references to another challenge", counts["cross-reference"], limits.cross_references_max
    )
    at_most(
        "fields with the same label", counts["duplicate-label"], limits.duplicate_field_labels_max
    )
    at_most(
        f"skills under {limits.min_challenges_per_skill} challenges",
        counts["thin-skill"],
        limits.thin_skills_max,
    )
    at_most("tubes with level gaps", counts["level-gap"], limits.tubes_with_gaps_max)
    at_most("office files without ODF", counts["no-odf"], limits.office_without_odf_max)
    rows = report.competences
    at_most(
        f"competences under {limits.min_tubes_per_competence} tubes",
        sum(1 for r in rows if r.tubes < limits.min_tubes_per_competence),
        0,
    )
    at_most(
        f"competences below level {limits.min_top_level}",
        sum(1 for r in rows if r.max_level < limits.min_top_level),
        0,
    )
    at_least(
        "competences reaching level 7",
        sum(1 for r in rows if r.max_level >= 7),
        limits.level_seven_competences_min,
    )
    at_least("tubes", len(report.tubes), limits.min_tubes)
    at_least("skills", sum(r.skills for r in rows), limits.min_skills)
    at_least("served challenges", len(served), limits.min_challenges)
    at_least(
        "challenges on a file", sum(1 for c in served if c.attachments), limits.min_file_challenges
    )
    return measures


# --- output ---------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[object]]) -> str:
    """Left-align the first column, right-align the others, rule under the header."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_summary(report: AuditReport) -> str:
    """The summary printed after the findings: measures, competences, tubes, types."""
    measures = table(
        [["measure", "value", "threshold", "met"]]
        + [[m.name, m.value, m.limit, "yes" if m.ok else "NO"] for m in report.measures]
    )
    competences = table(
        [["competence", "tubes", "skills", "challenges", "on a file", "max level"]]
        + [
            [
                f"{r.code} {r.title}",
                r.tubes,
                r.skills,
                r.challenges,
                r.file_challenges,
                r.max_level,
            ]
            for r in report.competences
        ]
    )
    tubes = table(
        [["tube", "competence", "levels", "challenges"]]
        + [[r.tube, r.competence, _levels_text(r.levels), r.challenges] for r in report.tubes]
    )
    ranks = table(
        [["qcu with 4 proposals: key by length", "qcu", "longest", "2nd", "3rd", "shortest"]]
        + [
            [row.scope, row.total] + [_ratio(count, row.total) for count in row.ranks]
            for row in report.key_length_ranks
        ]
    )
    types = table([["type", "challenges"]] + [[k, v] for k, v in report.types.items()])
    return "\n\n".join([measures, competences, tubes, ranks, types])
