"""The nine topics of the preliminary interviews, published as any other system would.

`seed(settings)` publishes one topic_proposed CloudEvent per topic (origin `interview`)
on Kafka; it never writes into the programme database. Each event's id is a uuid5 of
the topic's title and its time a fixed date before the launch, so that the events are
the same bytes on every run: running the seed again changes nothing (the service has
already processed those ids). `python -m services.programme.seed` runs it.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from services.programme.domain import topic_id_for
from shared.contract.envelope import ID_NAMESPACE
from shared.contract.programme import Person, TopicProposed, TopicProposedData
from shared.publishing import publish_events
from shared.settings import Settings

SOURCE = "urn:caprural:seed"
INTERVIEWS_DATE = datetime(2019, 12, 2, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
"""When the interview topics count as proposed: before any member's proposal (ties)."""
PROPOSER_NAME = "Cap Rural (entretiens préalables)"
DEFAULT_PROPOSER_EMAIL = "pat@caprural.org"


@dataclass(frozen=True)
class InterviewTopic:
    """A topic that came out of the preliminary interviews (customer's brief)."""

    title: str
    question: str
    description: str


INTERVIEW_TOPICS: tuple[InterviewTopic, ...] = (
    InterviewTopic(
        "Gouvernance des démarches alimentaires",
        "Quelles formes de gouvernance (politique, technique, élargie) et quelles modalités "
        "d'animation de la ou des instances de gouvernance ?",
        "Gouvernances politiques, techniques, élargies ; les formes possibles et les "
        "modalités d'animation de ou des instances de gouvernance.",
    ),
    InterviewTopic(
        "Moyens et ressources pour animer et financer",
        "Quels moyens et quelles ressources pour animer des démarches alimentaires et "
        "financer des actions ?",
        "Moyens et ressources pour animer des démarches alimentaires et financer des actions.",
    ),
    InterviewTopic(
        "Place et rôles de la collectivité",
        "Quelles place et rôles pour la collectivité dans les démarches alimentaires "
        "territoriales ?",
        "Place et rôles de la collectivité dans les démarches alimentaires territoriales.",
    ),
    InterviewTopic(
        "Animer la démarche dans la durée",
        "Quels moyens et quelles modalités d'animation sur la durée de la démarche "
        "alimentaire territoriale ?",
        "Moyens et modalités d'animation sur la durée de la démarche alimentaire territoriale.",
    ),
    InterviewTopic(
        "Coopérations entre acteurs du système alimentaire territorial",
        "Comment mobiliser et associer les différentes parties prenantes, et notamment les "
        "acteurs socio-économiques ?",
        "Coopérations entre acteurs du système alimentaire territorial : mobiliser et "
        "associer les différentes parties prenantes – et notamment des acteurs "
        "socio-économiques.",
    ),
    InterviewTopic(
        "La mutualisation en question",
        "Est-il possible de prévoir des actions mutualisées entre PAT ? Sur quoi et comment ?",
        "La mutualisation en question : est-il possible de prévoir des actions mutualisées "
        "entre PAT ? Sur quoi et comment ?",
    ),
    InterviewTopic(
        "Dimension systémique des stratégies et projets alimentaires",
        "Comment organiser la transversalité, le décloisonnement et le maillage des "
        "compétences en interne de la structure porteuse et avec les partenaires ?",
        "Dimension systémique des stratégies et projets alimentaires : organiser la "
        "transversalité, le décloisonnement, le maillage des compétences en interne de la "
        "structure porteuse et avec les partenaires.",
    ),
    InterviewTopic(
        "Diagnostics et données des démarches alimentaires",
        "Quels diagnostics en lien avec les démarches alimentaires ? Où trouver quelles "
        "données ? Comment les consolider ?",
        "Quels diagnostics en lien avec les démarches alimentaires ? Où trouver quelles "
        "données ? Comment les consolider… ?",
    ),
    InterviewTopic(
        "Animation des controverses",
        "Comment faire s'exprimer les points de vue sans ancrer ou générer des clivages ?",
        "Animation des controverses : faire s'exprimer les points de vue sans ancrer ou "
        "générer des clivages.",
    ),
)


def interview_event_id(title: str) -> str:
    """The CloudEvent id of an interview topic's proposal: stable across runs."""
    return str(uuid.uuid5(ID_NAMESPACE, f"interview-topic/{title}"))


def interview_events(settings: Settings) -> list[TopicProposed]:
    """The topic_proposed events of the nine interview topics, in the brief's order."""
    address = parseaddr(settings.mail_from)[1] or DEFAULT_PROPOSER_EMAIL
    proposer = Person(email=address, name=PROPOSER_NAME)
    events = []
    for position, topic in enumerate(INTERVIEW_TOPICS):
        event_id = interview_event_id(topic.title)
        events.append(
            TopicProposed(
                specversion="1.0",
                id=event_id,
                type="topic_proposed",
                source=SOURCE,
                time=INTERVIEWS_DATE + timedelta(minutes=position),
                subject=topic_id_for(event_id),
                data=TopicProposedData(
                    title=topic.title,
                    question=topic.question,
                    description=topic.description,
                    proposed_by=proposer,
                    origin="interview",
                ),
            )
        )
    return events


async def seed(settings: Settings) -> int:
    """Publish the interview topics' proposals; return how many were published."""
    events = interview_events(settings)
    await publish_events(settings, list(events))
    return len(events)


if __name__ == "__main__":
    count = asyncio.run(seed(Settings()))
    print(f"published {count} interview topics")  # noqa: T201
