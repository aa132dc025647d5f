"""Regressions and dangerous misses found by reviewing the day's triage changes (the commits
after aadee86: a kill word's object, a today in the event's sentence, people taken, hostages
still held, feared fights, people leaving, "next Friday", ambushes of people, the place right
after the deciding word, SMS abbreviations). The sentences are ours."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a today in a sentence that counts the dead or tells the burial dates that, not the
        # event told with its past word in another sentence
        (
            "Hier soir les ADF ont attaque Kamango. Ce matin on compte 4 morts",
            ("ATTACK", "high", "kamango"),
        ),
        (
            "Today the families buried 3 traders killed by gunmen. The ambush was on the "
            "Mbau road yesterday",
            ("ATTACK", "high", "mbau"),
        ),
        (
            "Juzi ADF walishambulia Eringeti. Leo tumezika watu 6 waliouawa",
            ("ATTACK", "high", "eringeti"),
        ),
        # ... a killing told in today's sentence is still today's, before its count too
        (
            "Hier pillage a Kahunga. Ce matin nouvelle attaque a Kahunga, on compte 2 morts",
            ("ATTACK", "critical", "kahunga"),
        ),
        (
            "Yesterday ADF were seen near Mangina. This morning they killed 2 farmers at Mangina",
            ("ATTACK", "critical", "mangina"),
        ),
        # a word right after gunfire or a taking word is no name before its object: a verb
        # ("frightened", "woke") then people is no gunfire aimed at them
        (
            "Heavy gunfire terrified villagers at Kibirizi this morning",
            ("CLASH", "critical", "kibirizi"),
        ),
        (
            "Gunshots woke residents of Nyanzale at dawn, no victims",
            ("CLASH", "critical", "nyanzale"),
        ),
        # nor is a noun followed by "of" / "from": the people after it own the goods
        (
            "Bandits took the keys of traders and looted their shops at Kalunguta",
            ("LOOTING", "medium", "kalunguta"),
        ),
        # a name or a word after a count still comes before its object
        (
            "Armed men took 4 Ugandan truck drivers near Ishasha",
            ("ABDUCTION", "critical", "ishasha"),
        ),
        ("Rebels took 2 NGO staff at Kibirizi", ("ABDUCTION", "critical", "kibirizi")),
        # people with a possessive own what was taken: goods taken are a looting
        ("Rebels took the village chief's cows at Kahunga", ("LOOTING", "medium", "kahunga")),
        (
            "Armed men took the owner's motorcycle at Kibirizi today",
            ("LOOTING", "medium", "kibirizi"),
        ),
        (
            "Gunmen took the herders\u2019 livestock near Nyamilima",
            ("LOOTING", "medium", "nyamilima"),
        ),
        ("Militia took a farmer's harvest near Kalunguta", ("LOOTING", "medium", "kalunguta")),
        # ... what is theirs and not goods is people taken
        ("Gunmen took the chief's wife at Kahunga", ("ABDUCTION", "critical", "kahunga")),
        # hostages no longer held ("ne ... plus aux mains de") are released
        (
            "Les 4 otages de Kahunga ont ete relaches, ils ne sont plus aux mains des ravisseurs",
            ("OTHER", "low", "kahunga"),
        ),
        # ... those still held keep the kidnapping
        (
            "Un otage relache ce matin, 2 autres sont toujours aux mains des ravisseurs a Kahunga",
            ("ABDUCTION", "critical", "kahunga"),
        ),
        # "approached", "headed for" are armed men's only when armed men are named: people
        # heading somewhere flee, a delegation heading somewhere is no alert
        (
            "Some 200 households headed for Kanyabayonga, fleeing the rebels",
            ("DISPLACEMENT", "medium", "kanyabayonga"),
        ),
        ("Church leaders headed for Bukavu for a synod", ("OTHER", "low", "bukavu")),
        (
            "Wazalendo fighters approached Kirolirwe at dawn",
            ("ARMED_PRESENCE", "high", "kirolirwe"),
        ),
        # French and Swahili: armed men drawing near
        (
            "Les miliciens se sont approches de Nyamilima cette nuit",
            ("ARMED_PRESENCE", "high", "nyamilima"),
        ),
        ("Waasi wa M23 wamekaribia Kibirizi", ("ARMED_PRESENCE", "high", "kibirizi")),
        # a fight or a killing dated right after the fear word has happened, or goes on
        ("Wakazi wanaogopa mashambulizi ya juzi Kalunguta", ("ATTACK", "high", "kalunguta")),
        (
            "Wakazi wa Nyanzale wanaogopa milio ya risasi tangu alfajiri",
            ("CLASH", "critical", "nyanzale"),
        ),
        (
            "Craignant les combats qui se poursuivent depuis ce matin a Mweso, les habitants "
            "fuient",
            ("CLASH", "critical", "mweso"),
        ),
        # ... undated, dated in another clause, or "since" an event, it is feared
        (
            "Wakazi wa Kibirizi wanaogopa mapigano tangu uchaguzi",
            ("THREAT", "medium", "kibirizi"),
        ),
        ("Fearing fighting, families left Pinga yesterday", ("DISPLACEMENT", "medium", "pinga")),
        ("Wakazi wa Kibirizi wanaogopa mapigano", ("THREAT", "medium", "kibirizi")),
        # one person leaving a place is no flight
        ("Le chef de groupement a quitte Kibirizi hier soir", ("OTHER", "low", "kibirizi")),
        ("The nurse left Nyanzale health centre yesterday evening", ("OTHER", "low", "nyanzale")),
        # people leaving a camp when calm has returned go home
        (
            "Les deplaces ont quitte l'ecole de Kahunga, le calme est revenu",
            ("OTHER", "low", "kahunga"),
        ),
        # ... people leaving a place are displaced
        ("Les habitants ont quitte Kahunga ce matin", ("DISPLACEMENT", "medium", "kahunga")),
        # duties by themselves are a post's or a nurse's, no forced tax
        ("Importers say customs duties at Ishasha border went up", ("OTHER", "low", "ishasha")),
        ("Teachers on exam duties at Kahunga ask for chalk", ("OTHER", "low", "kahunga")),
        # ... duties levied by armed men are
        ("Mai-Mai are collecting duties on goods at Ishasha", ("THREAT", "medium", "ishasha")),
        ("Rebels impose duties on every truck at Kahunga", ("THREAT", "medium", "kahunga")),
        # an ambush of an armed group's men or members is a fight
        ("FARDC ambushed CODECO members near Fataki", ("CLASH", "critical", "fataki")),
        ("Wazalendo ambushed M23 men at Kibirizi", ("CLASH", "critical", "kibirizi")),
        # ... of a people's herders, an attack
        ("Militiamen ambushed Mbororo herdsmen near Dungu", ("ATTACK", "critical", "dungu")),
        # an animal word right before people names their trade: the people were killed
        ("Armed men killed a goat trader near Mabenga", ("ATTACK", "critical", "mabenga")),
        ("Bandits killed the cattle herders of Kahunga", ("ATTACK", "critical", "kahunga")),
        # ... animals killed, the people in another clause, is a looting
        ("Bandits killed 6 goats, the herders fled, at Mabenga", ("LOOTING", "medium", "mabenga")),
        # people or animals before a passive's auxiliaries were taken
        (
            "Trois eleves ont ete pris par des hommes armes a Kahunga ce matin",
            ("ABDUCTION", "critical", "kahunga"),
        ),
        ("4 vaches prises par des miliciens a Mabenga", ("LOOTING", "medium", "mabenga")),
        ("Mbuzi 12 zilichukuliwa na wanamgambo Kahunga jana", ("LOOTING", "medium", "kahunga")),
        # hours or minutes ago is today ("hrs": the day's SMS abbreviation)
        ("Gunmen killed a moto driver at Mabenga 3 hrs ago", ("ATTACK", "critical", "mabenga")),
        (
            "Kidnapping at Kahunga 40 minutes ago, 2 women taken",
            ("ABDUCTION", "critical", "kahunga"),
        ),
        # ... 48 hours or 2 days ago is past
        ("Gunmen killed a moto driver at Mabenga 48 hours ago", ("ATTACK", "high", "mabenga")),
        ("Gunmen killed a moto driver at Mabenga 2 days ago", ("ATTACK", "high", "mabenga")),
        # "near" after people taken says where, not that they moved by themselves
        (
            "Bandits took the trader's motorbike and 2 passengers near Kahunga",
            ("ABDUCTION", "critical", "kahunga"),
        ),
        ("Militia took goats and 3 children near Mabenga", ("ABDUCTION", "critical", "mabenga")),
        # ... people moving after goods taken are not taken
        (
            "Militia took the goats and the children fled, at Mabenga",
            ("LOOTING", "medium", "mabenga"),
        ),
        # "coming" before a weekday is ahead after "this" / "the", else a participle (Monday)
        (
            "Gunmen abducted a teacher coming Friday from Kahunga market",
            ("ABDUCTION", "high", "kahunga"),
        ),
        (
            "Kidnappers of a teacher at Kahunga want the ransom by this coming Friday",
            ("ABDUCTION", "critical", "kahunga"),
        ),
        (
            "Gunmen abducted a teacher at Kahunga, her family must pay by next Friday",
            ("ABDUCTION", "critical", "kahunga"),
        ),
        # kin and clergy are people: taken, they are abducted
        ("Rebels took the pastor's son at Mabenga", ("ABDUCTION", "critical", "mabenga")),
        (
            "Des miliciens ont emmene l'epouse du chef a Kahunga",
            ("ABDUCTION", "critical", "kahunga"),
        ),
        ("Wanamgambo wamemchukua mke wa mwalimu Kahunga", ("ABDUCTION", "critical", "kahunga")),
        # ... one of them leaving a place is no flight
        ("The priest left Kahunga parish yesterday", ("OTHER", "low", "kahunga")),
    ],
)
def test_review_today(
    text: str, expected: tuple[str, str, str | None], gazetteer: Gazetteer
) -> None:
    """From an unknown number: the place is the text's alone."""
    assert summary(text, gazetteer, Sender()) == expected
