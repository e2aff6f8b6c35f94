"""Masking a citizen's message before anyone reads it as an example: names, phone numbers,
e-mail and web addresses, street addresses, national id numbers, dates and every number
longer than three digits become markers such as ‹navn› and ‹telefon›.

Conservative on purpose: it is better to hide an ordinary word than to show a name. Every
word that starts with a capital letter is taken for a name unless it is a common word that
starts a sentence or a service's name (``KEEP``); the word after "jeg heter", "my name is",
"اسمي" and the like is masked in any case (Arabic has no capitals). A pure function: no I/O.
"""

from __future__ import annotations

import re

NAME = "‹navn›"
PHONE = "‹telefon›"
EMAIL = "‹e-post›"
LINK = "‹lenke›"
ADDRESS = "‹adresse›"
ID_NUMBER = "‹personnummer›"
DATE = "‹dato›"
NUMBER = "‹tall›"
MARKERS = (NAME, PHONE, EMAIL, LINK, ADDRESS, ID_NUMBER, DATE, NUMBER)

PHONE_DIGITS = 8
"""A run of at least this many digits (Norwegian numbers have eight) is a phone number."""

_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\S*@\S+")
_ID_NUMBER = re.compile(r"(?<!\d)\d{6}[\s.-]?\d{5}(?!\d)")
_DATE = re.compile(r"(?<!\d)(?:\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?|\d{4}-\d{1,2}-\d{1,2})(?!\d)")
_DIGITS = re.compile(r"(?:\+|00)?\d(?:[\s().-]{0,2}\d)*")
_STREET_WORD = re.compile(
    r"\b[^\W\d_][\w'’-]*?(?:veien|vegen|vei|veg|gata|gaten|gate|gt\.|plassen|allé|stien"
    r"|bakken|svingen|tunet|strasse|straße)(?!\w)(?:\s+\d{1,3}\s?[a-zA-Z]?\b)?"
    r"|\b[^\W\d_][\w'’-]*\s+(?:street|road|avenue|st\.|rd\.)(?!\w)(?:\s+\d{1,3}[a-zA-Z]?\b)?",
    re.IGNORECASE,
)
_STREET_PREFIX = re.compile(
    r"(?:\bul\.|\bulica|\bal\.|вул\.|вулиця|проспект|شارع)\s*\S+(?:\s+\d{1,3}\s?[^\W\d_]?\b)?",
    re.IGNORECASE,
)
_NAME_CUE = re.compile(
    r"(\b(?:heiter|heter|kalles|kallar|navnet\s+\w+\s+er|namnet\s+\w+\s+er|name\s+is|named"
    r"|called|nazywam\s+się|nazywa\s+się|mam\s+na\s+imię|ma\s+na\s+imię|звати|звуть"
    r"|ім'я|імʼя|magacaygu\s+waa|magaciisu\s+waa|magaceedu\s+waa|magacaa\s+waa)"
    r"|(?:اسمي|اسمه|اسمها|إسمي|يدعى|تدعى))\s+([^\s.,!?؟،]+)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_REPEATED = re.compile(r"(‹[^›]+›)(?:[\s,]+\1)+")

_KEEP_WORDS = """
    jeg eg du han ho hun vi me dere de dei det den dette denne min mitt mine mi sønnen datteren
    barnet barna hei hallo heisann halla god goddag morn takk tusen hva kva hvor kvar hvordan
    korleis kordan hvorfor kvifor når hvem kven kan kor skal vil må bør er har hadde var får
    fikk om og men eller så ikke ikkje nei ja okei ok hjelp trenger treng lurer lurar noen nokon
    sønn dotter datter mor far mamma pappa foreldre foreldra foreldrene etter før i på til fra
    frå med uten utan av for hvis viss dersom ser ein en et eit alle mange litt jo nå no
    i i'm i'd i've my me we you your he she they it this that what where when why how who which
    can could would should will do does did is are am was were have has had hello hi hey thanks
    thank please help yes no not and but or if the a an our their his her its there here
    dear good morning evening sorry ok okay call write send contact need
    ring send skriv kontakt kontakta ta gi spør spør lurer trenger gjerne
    ja nie tak cześć dzień dobry dziękuję proszę czy jak gdzie kiedy dlaczego co kto mój moja
    moje mam jestem mój syn córka dziecko potrzebuję pomocy pomoc chcę mogę możecie w i z na
    do od się że ale lub nie mamy moim mojej nazywam mam proszę
    звати
    я ти ви ми він вона вони мій моя моє мої привіт добрий день дякую будь ласка як де коли
    чому що хто чи можна можу можете потрібна допомога допоможіть мені мене у в з на до не так
    ні маю є син донька дитина мама тато
    waan waxaan wuxuu waxay haa maya salaan mahadsanid fadlan sidee xaggee goorma maxay maxaa
    yaa ma magacaygu magaciisu wiilkeyga gabadheyda ilmahayga caawimaad caawin u ku ka iyo
    laakiin hooyo aabe
    bup nav ppt sfo dps pp-tjenesten pp-tenesta barnevern barnevernet barnevernstjenesten
    barnevernstenesta helsestasjon helsestasjonen helsestasjonar helsesykepleier
    helsesykepleieren helsesjukepleiar helsesjukepleiaren familieteam familieteamet familielos
    familielosen los losen kommune kommunen kommunar kommunene psykisk rus legevakt legevakta
    legevakten fastlege fastlegen skolehelsetjenesten skulehelsetenesta flyktningetjenesten
    flyktningtenesta kultur fritid ung ungdom ungdommen
"""
KEEP = frozenset(_KEEP_WORDS.split())
"""Words that start with a capital only because they start a sentence or name a service, in
the seven languages; any other capitalised word is taken for a name."""


def _digits(match: re.Match[str]) -> str:
    text = match.group(0)
    count = sum(ch.isdigit() for ch in text)
    if count >= PHONE_DIGITS:
        return PHONE
    if count > 3:
        return NUMBER
    return text


def _capitalised(match: re.Match[str]) -> str:
    word = match.group(0)
    if not word[0].isupper() or word.lower() in KEEP:
        return word
    return NAME


def _named(match: re.Match[str]) -> str:
    return f"{match.group(1)} {NAME}"


def mask(text: str) -> str:
    """The text with every name, number, address and the like replaced by a marker."""
    masked = _LINK.sub(LINK, text)
    masked = _EMAIL.sub(EMAIL, masked)
    masked = _ID_NUMBER.sub(ID_NUMBER, masked)
    masked = _DATE.sub(DATE, masked)
    masked = _DIGITS.sub(_digits, masked)
    masked = _STREET_PREFIX.sub(ADDRESS, masked)
    masked = _STREET_WORD.sub(ADDRESS, masked)
    masked = _NAME_CUE.sub(_named, masked)
    masked = _WORD.sub(_capitalised, masked)
    return _REPEATED.sub(r"\1", masked)
