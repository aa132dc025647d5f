"""Table-driven behaviour of triage: categories in four languages, time, numbers, language."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.engine import cap_certainty, triage_flash, triage_message
from app.triage.types import GazPlace, Numbers, Sender

MAVIVI = GazPlace("mavivi", "Mavivi", 0.56, 29.48, "Nord-Kivu", "Beni")
OICHA = GazPlace("oicha", "Oïcha", 0.70, 29.517, "Nord-Kivu", "Beni", ("Oicha", "Oisha"))
GAZ = Gazetteer([MAVIVI, OICHA], frozenset({"Beni"}))
HOME = Sender(known=True, verified=True, home=MAVIVI, language="fr")


def run(text: str, sender: Sender = HOME) -> tuple[str, str]:
    r = triage_message(text, gazetteer=GAZ, sender=sender)
    return r.category, r.severity


CATEGORY_CASES = [
    # ATTACK
    ("Les ADF ont massacré 12 civils", "ATTACK"),
    ("ils tuent les gens maintenant", "ATTACK"),
    ("des civils tues par balles", "ATTACK"),
    ("wanaua watu saa hii", "ATTACK"),
    ("Waliwaua wakulima wawili shambani", "ATTACK"),
    ("mtu mmoja amepigwa risasi", "ATTACK"),
    ("wanapiga risasi watu", "ATTACK"),
    ("maiti tatu zimepatikana", "ATTACK"),
    ("Babomi bato misato", "ATTACK"),
    ("attack on the village, 5 civilians killed", "ATTACK"),
    ("2 people shot dead at the market", "ATTACK"),
    ("tirs sur la population", "ATTACK"),
    ("Des obus sont tombés, des blessés", "ATTACK"),
    # ABDUCTION
    ("Trois femmes enlevées par des hommes armés", "ABDUCTION"),
    ("enlevement dun pasteur", "ABDUCTION"),
    ("ADF wamewateka watu kumi", "ABDUCTION"),
    ("watu wawili wamekamatwa na waasi", "ABDUCTION"),
    ("LRA bakangi bana mibale", "ABDUCTION"),
    ("2 traders kidnapped", "ABDUCTION"),
    ("ils demandent une rançon", "ABDUCTION"),
    ("des militaires ont arrêté 5 jeunes", "ABDUCTION"),
    # SEXUAL_VIOLENCE
    ("Une femme violée ce matin", "SEXUAL_VIOLENCE"),
    ("Msichana alibakwa na askari", "SEXUAL_VIOLENCE"),
    ("Basangisi mwasi na makasi", "SEXUAL_VIOLENCE"),
    ("two women raped by militiamen", "SEXUAL_VIOLENCE"),
    # CLASH
    ("Echanges de tirs entre FARDC et ADF", "CLASH"),
    ("Coups de feu entendus", "CLASH"),
    ("wanajeshi wanapigana na M23", "CLASH"),
    ("milio ya risasi inasikika", "CLASH"),
    ("Babundi na basoda sikoyo", "CLASH"),
    ("bitumba na basoda", "CLASH"),
    ("heavy fighting between army and rebels", "CLASH"),
    ("tirs entendus, pas de victimes", "CLASH"),
    # ARSON
    ("Ils ont mis le feu aux maisons", "ARSON"),
    ("village incendié par les miliciens", "ARSON"),
    ("nyumba zimechomwa moto", "ARSON"),
    ("Batumbi ndako", "ARSON"),
    ("houses torched by militia", "ARSON"),
    # LOOTING
    ("boutiques pillees", "LOOTING"),
    ("Waasi wamepora mali ya watu", "LOOTING"),
    ("majambazi wameiba ng'ombe", "LOOTING"),
    ("Bayibi bibwele", "LOOTING"),
    ("cattle raid by armed men", "LOOTING"),
    ("goats stolen by armed men", "LOOTING"),
    # ARMED_PRESENCE
    ("Hommes en armes aperçus dans la brousse", "ARMED_PRESENCE"),
    ("presence des ADF signalee pres du village", "ARMED_PRESENCE"),
    ("Watu wenye silaha wameingia kijijini usiku", "ARMED_PRESENCE"),
    ("ADF wanaelekea kijijini", "ARMED_PRESENCE"),
    ("Bato ya mindoki bamonani", "ARMED_PRESENCE"),
    ("Soldiers seen moving toward the market", "ARMED_PRESENCE"),
    ("incursion sans faire de victimes", "ARMED_PRESENCE"),
    # DISPLACEMENT
    ("la population fuit", "DISPLACEMENT"),
    ("watu wanakimbia vijiji vyao", "DISPLACEMENT"),
    ("Bato bazali kokima", "DISPLACEMENT"),
    ("displaced families arriving", "DISPLACEMENT"),
    ("rumeurs d'attaque, la population fuit", "DISPLACEMENT"),
    ("people fleeing because of rumours of attack", "DISPLACEMENT"),
    # THREAT
    ("menaces d'attaque contre le village", "THREAT"),
    ("Wanatishia kuchoma kijiji", "THREAT"),
    ("ADF threaten to attack the village", "THREAT"),
    ("lettre de menace déposée chez le chef", "THREAT"),
    ("les miliciens exigent des taxes illegales", "THREAT"),
    ("M23 wanatoza kodi kwa nguvu", "THREAT"),
    ("Babangisi bato", "THREAT"),
    ("ils vont attaquer ce soir", "THREAT"),
    # OTHER
    ("Wameachiliwa baada ya kutekwa", "OTHER"),
    ("les otages ont été libérés", "OTHER"),
    ("armed men gone, calm returned", "OTHER"),
    ("Les hommes armés sont partis", "OTHER"),
    ("rien à signaler", "OTHER"),
    ("hakuna shida, hali ni shwari", "OTHER"),
    ("Mbote, tozali malamu", "OTHER"),
    ("Network is bad here", "OTHER"),
    ("TEST", "OTHER"),
    ("", "OTHER"),
]


@pytest.mark.parametrize(("text", "category"), CATEGORY_CASES)
def test_category(text: str, category: str) -> None:
    assert run(text)[0] == category


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("Attaque en cours", "critical"),
        ("Attaque ce matin", "critical"),
        ("Attaque hier soir", "high"),
        ("wameua watu jana", "high"),
        ("wameua watu usiku wa jana", "high"),
        ("babomi bato lobi", "high"),
        ("people killed yesterday", "high"),
        ("affrontements avant-hier", "high"),
        ("attaque il y a 3 jours", "high"),
        ("Pillage en cours", "high"),
        ("maadui wanaiba mali sasa hivi", "high"),
        ("Pillage des boutiques", "medium"),
        ("Pillage hier soir", "medium"),
        ("hommes armés signalés hier", "high"),
        ("maisons incendiées la semaine passée", "high"),
        ("la population fuit maintenant", "medium"),
        ("menaces contre les enseignants", "medium"),
        ("Bonjour", "low"),
        ("combats depuis hier, les tirs continuent maintenant", "critical"),
        ("il y a des hommes armés", "high"),
    ],
)
def test_severity(text: str, severity: str) -> None:
    assert run(text)[1] == severity


@pytest.mark.parametrize(
    ("text", "past", "ongoing"),
    [
        ("attaque hier", True, False),
        ("jana usiku", True, False),
        ("lobi", True, False),
        ("last week", True, False),
        ("en ce moment", False, True),
        ("sasa hivi", False, True),
        ("sikoyo", False, True),
        ("right now", False, True),
        ("ce matin", False, False),
        ("tonight", False, False),
        ("leo asubuhi", False, False),
    ],
)
def test_time(text: str, past: bool, ongoing: bool) -> None:
    r = triage_message(text, gazetteer=GAZ, sender=HOME)
    assert (r.is_past, r.is_ongoing) == (past, ongoing)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Les ADF ont tué 3 personnes", Numbers(killed=3)),
        ("3 personnes tuées et 2 blessés", Numbers(killed=3, wounded=2)),
        ("watu wawili wameuawa", Numbers(killed=2)),
        ("wameua watu watatu", Numbers(killed=3)),
        ("Watu 3 wameuawa na wengine wanne wamejeruhiwa", Numbers(killed=3, wounded=4)),
        ("babomi bato mibale", Numbers(killed=2)),
        ("LRA bakangi bato zomi", Numbers(abducted=10)),
        ("about 20 armed men seen", Numbers(attackers=20)),
        ("vingt-cinq personnes enlevées", Numbers(abducted=25)),
        ("watu kumi na mbili wametekwa", Numbers(abducted=12)),
        ("five villagers killed", Numbers(killed=5)),
        ("wamechoma nyumba kumi", Numbers()),
        ("ont incendié 40 maisons", Numbers()),
        ("hommes armés à 2km", Numbers()),
        ("des morts", Numbers()),
        ("mtu mmoja ameuawa", Numbers(killed=1)),
    ],
)
def test_numbers(text: str, numbers: Numbers) -> None:
    assert triage_message(text, gazetteer=GAZ, sender=HOME).numbers == numbers


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Attaque en cours, les ADF ont tué 3 personnes", "fr"),
        ("Watu wenye silaha wameonekana karibu na kijiji", "sw"),
        ("Bato ya mindoki bakoti na mboka", "ln"),
        ("Armed men seen near the village", "en"),
        ("Bonjour", "fr"),
        ("Asante", "sw"),
        ("Mbote", "ln"),
        ("TEST", "en"),
    ],
)
def test_language(text: str, language: str) -> None:
    assert triage_message(text, gazetteer=GAZ, sender=Sender()).language == language


def test_language_falls_back_to_sender() -> None:
    sender = Sender(known=True, home=MAVIVI, language="sw")
    assert triage_message("Mavivi!!", gazetteer=GAZ, sender=sender).language == "sw"
    assert triage_message("Mavivi!!", gazetteer=GAZ, sender=Sender()).language == "fr"


def test_reasons_and_cap_fields() -> None:
    r = triage_message("wameua watu jana huko Mavivi", gazetteer=GAZ, sender=HOME)
    assert "'wameua' → ATTACK" in r.reasons
    assert "'jana' → past" in r.reasons
    assert any("place mavivi (text)" in x for x in r.reasons)
    assert r.cap_urgency == "Past"
    assert r.cap_severity == "Severe"
    assert r.cap_certainty == "Likely"
    assert 50 <= r.score < 75
    now = triage_message("wameua watu sasa Mavivi", gazetteer=GAZ, sender=HOME)
    assert now.cap_urgency == "Immediate" and now.cap_severity == "Extreme"
    assert now.score >= 75
    many = triage_message("wameua watu kumi sasa Mavivi", gazetteer=GAZ, sender=HOME)
    assert many.score > now.score
    threat = triage_message("menaces d'attaque", gazetteer=GAZ, sender=HOME)
    assert threat.cap_urgency == "Expected" and threat.cap_severity == "Moderate"


def test_score_follows_severity_bands() -> None:
    low = triage_message("Bonjour", gazetteer=GAZ, sender=HOME).score
    medium = triage_message("menaces", gazetteer=GAZ, sender=HOME).score
    high = triage_message("hommes armés signalés", gazetteer=GAZ, sender=HOME).score
    critical = triage_message("attaque", gazetteer=GAZ, sender=HOME).score
    assert 0 <= low < 25 <= medium < 50 <= high < 75 <= critical <= 100


def test_cap_certainty() -> None:
    assert cap_certainty(verified=False, corroborated=True) == "Observed"
    assert cap_certainty(verified=True, corroborated=False) == "Likely"
    assert cap_certainty(verified=False, corroborated=False) == "Possible"
    r = triage_message("attaque", gazetteer=GAZ, sender=Sender(), corroborated=True)
    assert r.cap_certainty == "Observed"


def test_flash() -> None:
    known = triage_flash(sender=HOME)
    assert (known.category, known.severity, known.place) == ("FLASH", "high", MAVIVI)
    assert known.location_source == "reporter_home"
    assert any("missed call → FLASH" in x for x in known.reasons)
    unknown = triage_flash(sender=Sender())
    assert (unknown.severity, unknown.place, unknown.location_source) == ("medium", None, "none")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "x" * 1600,
        "attaque " * 300,
        "🔥🔥 attaque 🔫 à Mavivi 😱",
        "هجوم مسلح في القرية",
        "\x00\x01\x02attaque\x1b[31m\u200b\u202e a Mavivi",
        "tuÃ© Ã  Mavivi, enlÃ¨vement",
        "'; DROP TABLE alerts; --",
        "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 999999999999999999",
        "un deux trois quatre cent mille mia elfu ntuku nkama",
        "-" * 500,
        "\ud800 lone surrogate",
        "Ａｔｔａｑｕｅ ＭＡＶＩＶＩ",
    ],
)
def test_robust_to_any_text(text: str) -> None:
    r = triage_message(text, gazetteer=GAZ, sender=HOME)
    assert r.severity in ("low", "medium", "high", "critical")
    r2 = triage_message(text, gazetteer=GAZ, sender=Sender())
    assert r2.location_source in ("text", "none")


def test_mojibake_is_repaired() -> None:
    r = triage_message("3 personnes tuÃ©es Ã  Mavivi", gazetteer=GAZ, sender=Sender())
    assert r.category == "ATTACK" and r.place == MAVIVI and r.numbers.killed == 3
