"""General weaknesses found in review (not in any labelled file): released abductees, bombs
between armed groups, bombs defused or found, armed men leaving after shelling, the place
the wounded are taken to, partial escapes, "karibu" (near) as a location. Each test fails
without its rule. The sentences are ours."""

from __future__ import annotations

import pytest

from app.geo.matcher import Gazetteer
from app.triage.types import Sender
from tests.triage.support import summary

MAVIVI_FP = "+243810000101"
OICHA_FP = "+243810000102"
RUTSHURU_FP = "+243810000107"
SAKE_FP = "+243810000109"
UVIRA_FP = "+243810000114"
UNKNOWN = "+243899000000"


def _sender(phone: str, senders: dict[str, Sender]) -> Sender:
    return senders.get(phone, Sender())


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (
            UNKNOWN,
            "The victims of the kidnapping in Oicha were released",
            ("OTHER", "low", "oicha"),
        ),
        (UNKNOWN, "les victimes de l'enlevement ont ete liberees", ("OTHER", "low", None)),
        (
            OICHA_FP,
            "Waathiriwa wa utekaji wa Mavivi wameachiliwa leo asubuhi",
            ("OTHER", "low", "mavivi"),
        ),
        # the victims of a killing are still its dead, release or not
        (
            UNKNOWN,
            "Les victimes de l attaque de Mavivi enterrees, les otages liberes",
            ("ATTACK", "critical", "mavivi"),
        ),
    ],
)
def test_the_victims_of_a_kidnapping_released_are_no_attack(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """ "Victims of the kidnapping" are the kidnapping's even when a release ends it: the
    release leaves no attack behind (OTHER, as "hostages released")."""
    assert summary(text, gazetteer, _sender(phone, senders)) == expected


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (
            UNKNOWN,
            "Les FARDC bombardent les rebelles du M23 a Kibumba",
            ("CLASH", "critical", "kibumba"),
        ),
        (
            SAKE_FP,
            "Les M23 ont bombarde les positions des Wazalendo ce matin",
            ("CLASH", "critical", "sake"),
        ),
        (
            UNKNOWN,
            "Wazalendo wamerusha mabomu kwa waasi wa M23 huko Sake",
            ("CLASH", "critical", "sake"),
        ),
        (
            UNKNOWN,
            "FARDC wamerusha mabomu kwenye ngome za M23 huko Kibumba",
            ("CLASH", "critical", "kibumba"),
        ),
        (
            UNKNOWN,
            "The army shelled rebel positions near Kibumba",
            ("CLASH", "critical", "kibumba"),
        ),
        # one party firing on a place, or anyone hurt: an attack
        (
            UNKNOWN,
            "Les rebelles du M23 bombardent Kibumba depuis ce matin",
            ("ATTACK", "critical", "kibumba"),
        ),
        (
            UNKNOWN,
            "Les FARDC ont bombarde les positions M23 a Kibumba, 2 civils tues",
            ("ATTACK", "critical", "kibumba"),
        ),
        (
            UNKNOWN,
            "Mabomu ya M23 yameanguka Kibumba, FARDC wamejibu",
            ("ATTACK", "critical", "kibumba"),
        ),
    ],
)
def test_bombs_between_armed_actors_are_a_clash(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """Bombs or shells fired by one armed party at another, or at armed men's positions, with
    no one hurt, are fighting between armed actors (CLASH), not an attack on people."""
    assert summary(text, gazetteer, _sender(phone, senders)) == expected


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        # defused: the harm it announced will not happen, the threat has ended (OTHER)
        (UNKNOWN, "Bombe desamorcee au marche de Beni", ("OTHER", "low", "beni")),
        (UNKNOWN, "Police defused a bomb at Beni market this morning", ("OTHER", "low", "beni")),
        (UNKNOWN, "Bomu limeteguliwa sokoni Beni leo", ("OTHER", "low", "beni")),
        (
            UNKNOWN,
            "Les FARDC ont desamorce un engin explosif a Oicha",
            ("OTHER", "low", "oicha"),
        ),
        # found and not gone off: announced harm that has not happened (THREAT)
        (
            UNKNOWN,
            "Un engin explosif decouvert pres de l eglise de Oicha",
            ("THREAT", "medium", "oicha"),
        ),
        (
            UNKNOWN,
            "Bomu imegunduliwa karibu na kanisa la Oicha",
            ("THREAT", "medium", "oicha"),
        ),
        (
            UNKNOWN,
            "An unexploded shell found near the school in Kibumba",
            ("THREAT", "medium", "kibumba"),
        ),
        # a bomb that went off is still an attack, whatever happened to another one
        (
            UNKNOWN,
            "Une bombe a explose au marche de Beni, une autre desamorcee",
            ("ATTACK", "critical", "beni"),
        ),
    ],
)
def test_a_bomb_defused_or_found_is_no_attack(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """A bomb defused next to its word went off nowhere (OTHER: a threat ended); one found and
    not gone off is a THREAT; a bomb that exploded stays an ATTACK."""
    assert summary(text, gazetteer, _sender(phone, senders)) == expected


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (
            UNKNOWN,
            "Les M23 ont quitte Sake apres les bombardements",
            ("OTHER", "low", "sake"),
        ),
        (
            UNKNOWN,
            "Les rebelles se sont retires de Sake apres les bombardements",
            ("OTHER", "low", "sake"),
        ),
        (SAKE_FP, "M23 wameondoka baada ya mabomu ya usiku", ("OTHER", "low", "sake")),
        (UNKNOWN, "M23 left Sake after the shelling", ("OTHER", "low", "sake")),
        # leaving one place for another is a movement; shelling that killed is an attack
        (
            UNKNOWN,
            "Les M23 ont quitte Kibumba et avancent vers Rugari",
            ("ARMED_PRESENCE", "high", "rugari"),
        ),
        (
            UNKNOWN,
            "Les M23 ont quitte Sake apres les bombardements qui ont tue 3 civils",
            ("ATTACK", "critical", "sake"),
        ),
    ],
)
def test_armed_men_gone_after_shelling_is_the_end_of_the_threat(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """Armed men gone after bombs that hurt no one: the threat has ended (OTHER), as calm
    after them is; "ont quitte X" / "left X" with armed men as its subject says they are
    gone unless they move on."""
    assert summary(text, gazetteer, _sender(phone, senders)) == expected


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (
            UNKNOWN,
            "Les ADF ont attaque Oicha, les blesses transferes a Beni",
            ("ATTACK", "critical", "oicha"),
        ),
        (
            UNKNOWN,
            "Deux morts dans l attaque de Mavivi, les blesses sont soignes a Beni",
            ("ATTACK", "critical", "mavivi"),
        ),
        (
            UNKNOWN,
            "Shambulio la ADF Mavivi usiku huu, majeruhi wamepelekwa huko Beni",
            ("ATTACK", "critical", "mavivi"),
        ),
        (
            UNKNOWN,
            "ADF attacked Oicha last night, the wounded were taken to hospital in Beni",
            ("ATTACK", "high", "oicha"),
        ),
        # the only place named is still the alert's place
        (
            MAVIVI_FP,
            "Deux blesses par balle transferes a Beni ce matin",
            ("ATTACK", "critical", "beni"),
        ),
    ],
)
def test_where_the_wounded_are_taken_is_not_the_place_of_the_event(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """A place named right after the wounded are taken there (transferes a, evacues vers,
    wamepelekwa hospitali ya, taken to hospital in) ranks below the place of the event."""
    assert summary(text, gazetteer, _sender(phone, senders)) == expected


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (
            UNKNOWN,
            "Deux infirmiers enleves ce matin a Oicha dans une embuscade, 3 collegues "
            "se sont echappes",
            ("ABDUCTION", "critical", "oicha"),
        ),
        (
            UNKNOWN,
            "Les ADF ont enleve 10 personnes a Oicha, 4 ont ete liberees",
            ("ABDUCTION", "critical", "oicha"),
        ),
        (
            UNKNOWN,
            "ADF wamewateka watu watano huko Mavivi, wengine wawili wamefanikiwa kutoroka",
            ("ABDUCTION", "critical", "mavivi"),
        ),
        (
            UNKNOWN,
            "Gunmen ambushed a convoy near Oicha and took three drivers, 2 passengers escaped",
            ("ABDUCTION", "critical", "oicha"),
        ),
        # the ones taken freed or escaped: the abduction has ended
        (
            UNKNOWN,
            "Hier les ADF ont enleve 10 personnes a Oicha. Ce matin les 10 otages ont ete liberes",
            ("OTHER", "low", "oicha"),
        ),
        (
            UNKNOWN,
            "Two nurses kidnapped in Oicha, they escaped in the evening",
            ("OTHER", "low", "oicha"),
        ),
        # an ambush that hurt someone is an attack
        (
            UNKNOWN,
            "Embuscade sur la route de Oicha, un chauffeur tue et deux passagers enleves",
            ("ATTACK", "critical", "oicha"),
        ),
    ],
)
def test_others_escaping_do_not_end_an_abduction(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """A release or escape said of others than those taken ("3 collegues se sont echappes",
    "wengine wawili wamefanikiwa kutoroka", a new count) leaves the abduction; an ambush with
    people taken and no one hurt is an abduction."""
    assert summary(text, gazetteer, _sender(phone, senders)) == expected


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (
            UVIRA_FP,
            "Barabara ya Kiliba karibu na mto ina vizuizi 10, wanajeshi wanatulipisha 500 FC",
            ("THREAT", "medium", "kiliba"),
        ),
        (
            UVIRA_FP,
            "Soko la Kiliba karibu na kanisa, askari wanatutoza pesa kila siku",
            ("THREAT", "medium", "kiliba"),
        ),
        (
            UVIRA_FP,
            "The market near Kiliba: soldiers threaten traders who refuse to pay",
            ("THREAT", "medium", "kiliba"),
        ),
        # armed men near a place are there
        (UNKNOWN, "ADF wako karibu na Mamove", ("ARMED_PRESENCE", "high", "mamove")),
        (UNKNOWN, "Karibu na Mamove kuna ADF wengi", ("ARMED_PRESENCE", "high", "mamove")),
        (UNKNOWN, "Armed men near Oicha this morning", ("ARMED_PRESENCE", "high", "oicha")),
    ],
)
def test_near_is_a_sighting_only_beside_armed_men(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """ "karibu (na)" / "near" says armed men are near a place only when they are named beside
    it (three words, same clause); elsewhere it only says where something is, and does not
    turn soldiers named in another clause into a sighting that outranks a THREAT."""
    assert summary(text, gazetteer, _sender(phone, senders)) == expected


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (
            UNKNOWN,
            "Les miliciens ont pris toutes les marchandises de la boutique et deux enfants "
            "a Mavivi",
            ("ABDUCTION", "critical", "mavivi"),
        ),
        (
            UNKNOWN,
            "Les miliciens ont pris les vaches, les chevres, les poules et deux enfants a Mavivi",
            ("ABDUCTION", "critical", "mavivi"),
        ),
        (
            UNKNOWN,
            "Les ADF ont emporte les chevres ainsi que deux enfants a Mavivi",
            ("ABDUCTION", "critical", "mavivi"),
        ),
        (
            UNKNOWN,
            "ADF wamechukua mbuzi wa kijiji pamoja na watoto wawili huko Mavivi",
            ("ABDUCTION", "critical", "mavivi"),
        ),
        (
            UNKNOWN,
            "ADF took the goats along with two children in Mavivi",
            ("ABDUCTION", "critical", "mavivi"),
        ),
        # people after a comma are a new clause's subject; people fleeing are not taken
        (
            UNKNOWN,
            "Les miliciens ont emporte les chevres, les enfants pleurent a Mavivi",
            ("LOOTING", "medium", "mavivi"),
        ),
        (
            UNKNOWN,
            "Les miliciens ont pris les biens et la population a fui Mavivi",
            ("LOOTING", "medium", "mavivi"),
        ),
    ],
)
def test_people_listed_after_goods_are_taken_too(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """The items of a list after a taking word are all taken: goods after commas, people after
    a join word ("et", "ainsi que", "pamoja na", "along with"), each item up to five words
    long; "toutes les marchandises" is goods."""
    assert summary(text, gazetteer, _sender(phone, senders)) == expected


@pytest.mark.parametrize(
    ("phone", "text", "expected"),
    [
        (
            UNKNOWN,
            "Sur la route de Kiliba jusqu a Luvungi les militaires font payer 500 FC",
            ("THREAT", "medium", "kiliba"),
        ),
        (
            UNKNOWN,
            "Barabara kutoka Kiliba mpaka Luvungi ina vizuizi 14",
            ("THREAT", "medium", "kiliba"),
        ),
        (
            UNKNOWN,
            "On the road from Kiliba to Luvungi soldiers threaten every driver",
            ("THREAT", "medium", "kiliba"),
        ),
        # armed men heading somewhere on a road: where they head
        (
            UNKNOWN,
            "Des hommes armes sur la route de Kiliba vers Luvungi",
            ("ARMED_PRESENCE", "high", "luvungi"),
        ),
    ],
)
def test_a_road_from_one_place_to_another_is_the_first(
    phone: str,
    text: str,
    expected: tuple[str, str, str | None],
    gazetteer: Gazetteer,
    senders: dict[str, Sender],
) -> None:
    """A road written "de X a Y", "kutoka X mpaka Y", "from X to Y" is the axis "X-Y" of Place
    rule 2: the first named, as for a dash or "between X and Y"."""
    assert summary(text, gazetteer, _sender(phone, senders)) == expected
