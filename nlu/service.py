"""Understanding one message: crisis check, language, intent (Rasa, or the offline matcher)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from nlu.confidentiality import WorryCheck, default_check
from nlu.crisis import CrisisDetector, CrisisSignal
from nlu.danger_sense import DangerSense
from nlu.embeddings import TextVector, embed_one, usable_vector
from nlu.fallback import FallbackMatcher, fold
from nlu.language import LanguageGuesser
from nlu.local_model import LocalModel
from nlu.rasa_client import NluUnavailable, ParsedIntent, RasaClient, RasaReading
from nlu.trusted import BringSomeoneCheck
from nlu.trusted import default_check as default_bring_check
from nlu.understanding import MODEL_SOURCES, Source, Understanding, topic_for_intent

log = logging.getLogger(__name__)
MAX_NLU_CHARS = 1000
"""What the language guesser, Rasa and the offline matcher read of a message; the crisis check
reads all of it."""
LONG_TEXT_CHARS = 5000
"""Longer messages are crisis-checked on a worker thread, so a huge one never stalls the
other conversations."""
MODEL_CRISIS_INTENT = "crisis"
MODEL_CRISIS_MIN_WORDS = 3
"""Fewer words are no sentence the classifiers can judge danger in: with Rasa down the
matcher called the intake's own button "Meg selv" (and "Myself", "نفسي") a crisis, near
"skade meg selv". Short danger ("vil dø", "kutter meg") is the lexicon's to catch."""
SMALL_TALK = frozenset({"greet", "thanks"})
SMALL_TALK_MAX_WORDS = 6
"""The longest greeting or thanks in the training data; DIET has called longer messages
small talk with confidence 1.0 ("jeg drikker for mye og vil ha hjelp" -> thanks)."""


def _doubtful_small_talk(intent: str, text: str, source: Source) -> bool:
    long = len(text.split()) > SMALL_TALK_MAX_WORDS
    return source in MODEL_SOURCES and intent in SMALL_TALK and long


SEND_WAIT_S = 0.005
"""The longest a caller waits for Rasa's request to leave before its own work (a server slow
to take the connection must not hold the message back)."""


async def until_sent(sent: asyncio.Event | None, within_s: float = SEND_WAIT_S) -> None:
    """Wait (at most ``within_s``) until a reading's request has left. Work started before
    it would share the interpreter with the request's own sending (the recording on the
    store's thread held it back about a millisecond, and the reply with it)."""
    if sent is None or sent.is_set():
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(sent.wait(), within_s)


PREFETCHED_KEPT = 256
"""At most this many early worry checks wait for their ``understand`` (the oldest go)."""
ALTERNATIVE_MIN = 0.25
"""A topic below this confidence is not offered as a likely meaning."""
ALTERNATIVES = 3


def likely_topics(parsed: ParsedIntent) -> tuple[str, ...]:
    """The topics (services, or a person) a doubtful answer most likely meant, best first."""
    ranked = [(parsed.name, parsed.confidence), *parsed.ranking]
    topics: list[str] = []
    for name, confidence in ranked:
        topic = topic_for_intent(name)
        if topic is not None and confidence >= ALTERNATIVE_MIN and topic not in topics:
            topics.append(topic)
    return tuple(topics[:ALTERNATIVES])


DISPUTE_BELOW = 0.5
"""A model this sure of its answer is not overruled by the matcher's other reading."""


def _disputed(
    model: ParsedIntent, matcher: ParsedIntent | None, below: float = DISPUTE_BELOW
) -> tuple[str, ...]:
    """The two topics when the model, less than ``below`` sure, and the offline
    matcher, asked about the same message, name different ones (services or a person),
    model's first; else nothing.

    Two classifiers that read a message differently (the model: logistic regression on e5
    vectors and n-grams; the matcher: nearest neighbours by e5 vectors) disagree mostly where
    one of them is wrong, and the logistic regression's confidence says how likely it is
    right. Calibrated on the development blind sets (fresh_blind5, 6 and 7, 1,099 messages;
    README, "When unsure, ask"): asking below 0.7 put 67 questions to citizens and the model
    alone was right in about half of them; below 0.5 it asks 33 and the right service is
    among the choices in 25, while 1.6 more messages in 100 are placed right at once (with the
    confidence threshold at 0.4, where the answers below it are right less than half the
    time). A message that either calls out of scope or small talk is not disputed (the
    other decides, as before)."""
    if matcher is None or model.confidence >= below:
        return ()
    first, other = topic_for_intent(model.name), topic_for_intent(matcher.name)
    if first is None or other is None or first == other:
        return ()
    return (first, other)


def _merged(first: tuple[str, ...], then: tuple[str, ...]) -> tuple[str, ...]:
    """Topics from both, first ones first, each once, at most ``ALTERNATIVES``."""
    return tuple(dict.fromkeys((*first, *then)))[:ALTERNATIVES]


def _vector_of(known: TextVector | None, text: str) -> NDArray[np.float32] | None:
    return known.of(text) if known is not None else None


Remembered = tuple[ParsedIntent, ParsedIntent | None, TextVector | None]
"""The model's answer for a text, the matcher's (None when it could not matter), and the
text's vector from the server."""


class Understander:
    """Combines the independent crisis check, language detection and intent classification.

    The crisis check and language detection never touch the network. The crisis check reads the
    whole message, however long; language detection and intent classification read its first
    ``MAX_NLU_CHARS`` characters.

    The model's ``crisis`` intent (on top of the lexicon) counts only when it is at least
    ``crisis_corroboration`` sure and the offline matcher, asked on its own, also says crisis
    with at least that confidence (the bar the matcher must clear to raise the flag alone when
    Rasa is down; by default the confidence threshold, configured apart as
    ``nlu.crisis_corroboration``), and never for an idiom. The model's confidence is no guide on
    messages unlike its training data: it calls "How cold will it be tonight?" a crisis with
    0.9995; alone it raised false alarms on 145 of 3,899 out-of-scope requests (xSID
    validation), 5 even at 0.999; with the matcher's agreement, none
    (scripts/crisis_false_alarms.py). An uncorroborated crisis answer is treated as a doubtful
    answer.

    When Rasa's answer is
    doubtful (below ``threshold``, or small talk for a message longer than any greeting), the
    offline matcher built from the same data gives a second opinion, taken when it names a
    topic ("...henvisning til BUP?" should not become "not understood"). When Rasa fails, the
    offline matcher answers alone and Rasa is left alone for ``retry_after_s`` seconds, so a
    dead server costs one timeout, not one per message.

    The matcher and the danger sense read the message's e5 vector, which the Rasa server
    computes anyway (our featurizer, the same model): they take the one it sends when it is
    the same model's, of the very text they read, and well-formed (``usable_vector``), and
    embed the text here otherwise, as always when Rasa is down. The danger sense never waits
    for Rasa more than the intent does, and never depends on it.
    """

    def __init__(
        self,
        *,
        crisis: CrisisDetector,
        guesser: LanguageGuesser,
        fallback: FallbackMatcher,
        rasa: RasaClient | None,
        threshold: float,
        model_crisis_category: str = "acute_danger",
        model_crisis_topic: str = "barnevern",
        crisis_corroboration: float | None = None,
        danger: DangerSense | None = None,
        cache_size: int = 4096,
        retry_after_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        worry: WorryCheck | None = None,
        local: LocalModel | None = None,
        dispute_below: float = DISPUTE_BELOW,
        bring: BringSomeoneCheck | None = None,
    ) -> None:
        self.crisis = crisis
        self.dispute_below = dispute_below
        self.bring = bring if bring is not None else default_bring_check()
        self.worry = worry if worry is not None else default_check()
        self.guesser = guesser
        self.fallback = fallback
        self.rasa = rasa
        self.local = local
        self.threshold = threshold
        self.model_crisis_category = model_crisis_category
        self.model_crisis_topic = model_crisis_topic
        self.danger = danger
        self.crisis_corroboration = (
            threshold if crisis_corroboration is None else crisis_corroboration
        )
        self._cache: OrderedDict[str, Remembered] = OrderedDict()
        self._asking: dict[str, asyncio.Task[Remembered | None]] = {}
        """Rasa's readings in flight, by the cache's key: a message's reading starts before
        the rest of its understanding (and, from the router, before it is recorded)."""
        self._sent: dict[asyncio.Task[Remembered | None], asyncio.Event] = {}
        """Per reading in flight, set once its request has left."""
        self._generation = 0
        self._worries: OrderedDict[str, str | None] = OrderedDict()
        """The worry check of texts asked for early, until ``understand`` takes it."""
        self._cache_size = cache_size
        self._retry_after_s = retry_after_s
        self._rasa_down_until = 0.0
        self._clock = clock

    @property
    def rasa_available(self) -> bool:
        """False while the server is considered down after a failure."""
        return self.rasa is not None and self._clock() >= self._rasa_down_until

    async def warm_up(self) -> None:
        """Build the language models, compile the crisis and phrase patterns and wake the NLU
        server, before the first citizen writes (the language detector alone takes seconds)."""
        await asyncio.to_thread(self.guesser.detect, "hei, hvor er helsestasjonen?", None, None)
        await asyncio.to_thread(self.crisis.compile_all)
        await asyncio.to_thread(self.worry.compile_all)
        await asyncio.to_thread(self.bring.compile_all)
        if self.fallback.embedder is not None:  # loaded now, not when Rasa first fails
            await asyncio.to_thread(self.fallback.embedder.embed, ["hei"])
        await self.understand("hei, hvor er helsestasjonen?", None)

    def prefetch(self, text: str) -> asyncio.Event | None:
        """Start asking Rasa about the message ``text`` now (what ``understand`` will ask of
        it: its first ``MAX_NLU_CHARS`` characters without a worry's words), so that the
        answer is on its way while the caller does other work (the router: records the
        message). ``understand`` then waits for that reading instead of asking again; a
        reading nobody waits for fills the cache. Nothing is decided here: the crisis check,
        the language and everything else happen in ``understand``.

        Returns what is set once the request has left (``until_sent``), None when Rasa is
        not asked."""
        read = text[:MAX_NLU_CHARS]
        worry = self.worry.check(read)
        asking = self._ask_soon(self._asked(read, worry))
        if asking is None:
            return None
        self._worries[read] = worry  # for ``understand``: not checked twice
        if len(self._worries) > PREFETCHED_KEPT:
            self._worries.popitem(last=False)
        return self._sent.get(asking)

    def in_flight(self) -> int:
        """How many of Rasa's readings are on their way (each ends within the client's
        timeout, its answer remembered)."""
        return len(self._asking)

    async def settled(self) -> None:
        """Wait until no reading is in flight (for shutdown and tests)."""
        while self._asking:
            await asyncio.wait(list(self._asking.values()))

    async def understand(
        self, text: str, previous_language: str | None, hint: str | None = None
    ) -> Understanding:
        """Language, intent, confidence and crisis signal for one message of any length.

        Rasa's reading is asked for first (unless already on its way): the crisis check,
        the language guess and the worry and bring-someone checks run while it is in
        flight. The crisis check never waits for it."""
        read = text[:MAX_NLU_CHARS]
        worry = self._worries.pop(read) if read in self._worries else self.worry.check(read)
        # A worry's own words ("without my parents knowing") are not what the message asks
        # about: the intent is read from the rest ("" when the worry is all of it).
        asked = self._asked(read, worry)
        asking = self._ask_soon(asked)
        if asking is not None:  # the request leaves before the local work
            await until_sent(self._sent.get(asking))
        if len(text) > LONG_TEXT_CHARS:  # up to a second for 100,000 characters: off the loop
            signal = await asyncio.to_thread(self.crisis.check, text)
        else:
            signal = self.crisis.check(text)
        bring = self.bring.check(read)
        language = self.guesser.detect(read, previous_language, hint)
        if language.switch is not None and len(text) < 60:  # a reading asked for fills the cache
            return Understanding(
                language.code,
                "language_switch",
                1.0,
                signal,
                "none",
                language_switch=language.switch,
                worry=worry,
                bring_someone=bring,
            )
        parsed, source, second, known = await self._intent(asked)
        intent, confidence = parsed.name, parsed.confidence
        below = confidence < self.threshold and source in MODEL_SOURCES  # matcher: its own
        if intent == MODEL_CRISIS_INTENT and confidence >= self.crisis_corroboration:
            if self._crisis_counts(second, read):
                if signal is None:
                    signal = CrisisSignal(
                        self.model_crisis_category, self.model_crisis_topic, language.code, "model"
                    )
            elif source in MODEL_SOURCES:
                below = True  # an uncorroborated crisis answer is a doubtful answer
        disputed = _disputed(parsed, second, self.dispute_below) if signal is None else ()
        if disputed:
            below = True  # the model and the matcher name different services: ask
        elif below or _doubtful_small_talk(intent, read, source):
            second = second or await self._matcher(read, _vector_of(known, read))
            if topic_for_intent(second.name) is not None:  # it says out_of_scope when unsure
                intent, confidence, source = second.name, second.confidence, "fallback"
                below = False
        alternatives: tuple[str, ...] = ()
        if below and signal is None:
            alternatives = _merged(disputed, likely_topics(parsed))
        if below or intent == MODEL_CRISIS_INTENT:
            intent = "out_of_scope" if signal is None else MODEL_CRISIS_INTENT
        possible = False
        if signal is None and self.danger is not None:
            possible = await self._possible_danger(self.danger, read, known)
        return Understanding(
            language.code,
            intent,
            confidence,
            signal,
            source,
            unsupported_language=language.unsupported,
            possible_danger=possible,
            alternatives=alternatives,
            worry=worry,
            bring_someone=bring,
        )

    def _crisis_counts(self, matcher: ParsedIntent | None, text: str) -> bool:
        """Whether a crisis intent raises the flag: the text has at least
        ``MODEL_CRISIS_MIN_WORDS`` words, the offline matcher, asked on its own, agrees
        (``matcher`` is None when the answer came from the matcher itself, Rasa being down),
        and the text is no idiom."""
        if len(fold(text).split()) < MODEL_CRISIS_MIN_WORDS:
            return False
        if matcher is not None and (
            matcher.name != MODEL_CRISIS_INTENT or matcher.confidence < self.crisis_corroboration
        ):
            return False
        return not self.crisis.is_idiom(text)

    async def _intent(
        self, text: str
    ) -> tuple[ParsedIntent, Source, ParsedIntent | None, TextVector | None]:
        """The model's answer and where it came from, with the offline matcher's own answer
        beside a model's when it can matter (``_wants_second``; asked with the vector the
        server sent along), and that vector."""
        key = fold(text)
        if not key:
            return ParsedIntent("out_of_scope", 1.0), "none", None, None
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached[0], "rasa", cached[1], cached[2]
        asking = self._asking.get(key) or self._ask_soon(text)
        if asking is None:  # no Rasa, or left alone after a failure
            return await self._offline(text)
        answers = await asyncio.shield(asking)  # a cancelled caller leaves it to the cache
        if answers is None:
            return await self._offline(text)
        return answers[0], "rasa", answers[1], answers[2]

    def _asked(self, read: str, worry: str | None) -> str:
        """What Rasa is asked about a message's first characters ``read``."""
        return self.worry.without(read) if worry else read

    def _ask_soon(self, text: str) -> asyncio.Task[Remembered | None] | None:
        """Rasa's reading of ``text`` on its way (one already asked for, or a new one); None
        when Rasa is not asked (an empty text, a remembered one, no server or left alone)."""
        key = fold(text)
        if not key or key in self._cache:
            return None
        asking = self._asking.get(key)
        if asking is not None:
            return asking
        if self.rasa is None or not self.rasa_available:
            return None
        sent = asyncio.Event()
        asking = asyncio.get_running_loop().create_task(self._ask(self.rasa, key, text, sent))
        self._asking[key], self._sent[asking] = asking, sent
        asking.add_done_callback(lambda done: self._asked_done(key, done))
        return asking

    def _asked_done(self, key: str, done: asyncio.Task[Remembered | None]) -> None:
        self._sent.pop(done, None)
        if self._asking.get(key) is done:
            del self._asking[key]
        if not done.cancelled():
            done.exception()  # retrieved: a failure nobody waited for is not logged as lost

    async def _ask(
        self, rasa: RasaClient, key: str, text: str, sent: asyncio.Event
    ) -> Remembered | None:
        """Rasa's answer for ``text`` with the matcher's beside it when it can matter,
        remembered; None when the server failed (then it is left alone for a while).
        ``sent`` is set when the request has left, or the reading ended without it."""
        generation = self._generation
        try:
            reading = await rasa.read(text, sent)
        except NluUnavailable as error:
            self._rasa_down_until = self._clock() + self._retry_after_s
            log.warning(
                "NLU server unavailable (%s): the offline matcher answers alone for %g s",
                error,
                self._retry_after_s,
            )
            return None
        except Exception as error:  # a fault in the client must not cost the answer either
            self._rasa_down_until = self._clock() + self._retry_after_s
            log.error("reading from the NLU server failed: %s", type(error).__name__)
            return None
        finally:
            sent.set()  # nobody waits on a request that never left
        known = self._usable(reading)
        second = (
            await self._matcher(text, _vector_of(known, text))
            if self._wants_second(reading.intent)
            else None
        )
        answers = (reading.intent, second, known)
        if generation == self._generation:
            self._remember(key, answers)
        return answers

    def forget(self) -> None:
        """Drop the remembered answers (after a change of the threshold or the dispute bar:
        a remembered answer may lack the matcher's, which now matters)."""
        self._cache.clear()
        self._generation += 1  # a reading in flight now is not remembered

    def _wants_second(self, model: ParsedIntent) -> bool:
        """Whether the matcher's own answer can change what is made of the model's: it backs
        a crisis intent, and settles a doubtful one (below the threshold or the dispute
        bar). A sure answer needs none (the matcher's 2-3 ms saved on most messages); one
        below the threshold asks it again later if this did not."""
        return model.name == MODEL_CRISIS_INTENT or model.confidence < max(
            self.threshold, self.dispute_below
        )

    async def _offline(
        self, text: str
    ) -> tuple[ParsedIntent, Source, ParsedIntent | None, TextVector | None]:
        """Rasa unavailable: the model's own classifier, read here over the text's vector,
        with the matcher's answer beside it as beside Rasa's; the matcher alone when there
        is no model to read (none trained yet, or no e5 here)."""
        if self.local is not None:
            answers = await asyncio.to_thread(self._read_locally, self.local, text)
            if answers is not None:
                return answers
        return await self._matcher(text), "fallback", None, None

    def _read_locally(
        self, local: LocalModel, text: str
    ) -> tuple[ParsedIntent, Source, ParsedIntent | None, TextVector | None] | None:
        if local.classifier() is None:
            return None
        stripped = text.strip()  # as the Rasa server reads it
        vector = embed_one(local.embedder, stripped)
        parsed = local.parse(stripped, vector)
        if parsed is None:
            return None
        known = TextVector(stripped, vector) if local.embedder.name == self._model_name() else None
        second = (
            self.fallback.parse(text, _vector_of(known, text))
            if self._wants_second(parsed)
            else None
        )
        return parsed, "local", second, known

    def _usable(self, reading: RasaReading) -> TextVector | None:
        """The server's vector when the matcher would have computed the same one."""
        embedder, dimension = self.fallback.embedder, self.fallback.dimension
        if embedder is None or dimension is None:
            return None
        return usable_vector(reading.vector, embedder.name, dimension)

    async def _matcher(self, text: str, vector: NDArray[np.float32] | None = None) -> ParsedIntent:
        """The offline matcher's answer; on a worker thread when it embeds the text (~15 ms
        of C code that releases the GIL), so other conversations go on meanwhile, and here
        when the text's vector is known or there are no embeddings (2-3 ms, mostly NumPy)."""
        if self.fallback.embedder is None or vector is not None:
            return self.fallback.parse(text, vector)
        return await asyncio.to_thread(self.fallback.parse, text)

    async def _possible_danger(
        self, danger: DangerSense, read: str, known: TextVector | None
    ) -> bool:
        """The danger sense on ``read``: with the server's vector of it, when that is the
        danger sense's model's (microseconds, here); else embedded on a worker thread."""
        vector = _vector_of(known, read)
        if vector is not None and danger.embedder.name == self._model_name():
            return danger.possible(read, vector)
        return await asyncio.to_thread(danger.possible, read)

    def _model_name(self) -> str | None:
        return self.fallback.embedder.name if self.fallback.embedder is not None else None

    def _remember(self, key: str, answers: Remembered) -> None:
        self._cache[key] = answers
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
