"""What each one-click link offers, and the inbound event its POST publishes.

A link's request is published with the link's own event id (`Link.event_id`), so that a
double click, a replay or a retry has one effect downstream (every consumer keeps the
ids it processed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from services.gateway import forms
from shared.contract import CloudEvent
from shared.contract.cycle import (
    ExpertResponseSubmitted,
    FeedbackSubmitted,
    SessionQuestionSubmitted,
)
from shared.contract.interest import InterestDeclared, InterestWithdrawn
from shared.contract.registration import (
    MemberLeaveRequested,
    SessionSignupCancelled,
    SessionSignupRequested,
)
from shared.identity import InvalidAddress, check_address, person_key
from shared.links import Link

SOURCE = "urn:caprural:gateway"

Fields = Literal["none", "names", "question", "rate", "note"]


@dataclass(frozen=True)
class Offer:
    """How a link's page presents its action."""

    title: str
    intro: str
    button: str
    done: str
    fields: Fields = "none"


OFFERS: dict[str, Offer] = {
    "confirm_signup": Offer(
        "Confirmer votre inscription",
        "Confirmez votre inscription à cette séance du groupe d'échange de pratiques.",
        "Confirmer mon inscription",
        "Votre demande d'inscription est enregistrée : un courriel vous dira si vous avez "
        "une place ou si vous êtes sur liste d'attente.",
    ),
    "confirm_interest": Offer(
        "Confirmer votre intérêt",
        "Confirmez que vous souhaitez être informé(e) des prochaines séances du groupe.",
        "Confirmer",
        "C'est noté : vous serez informé(e) des prochaines séances qui vous concernent.",
    ),
    "signup": Offer(
        "S'inscrire à la séance",
        "Inscrivez-vous à cette séance du groupe d'échange de pratiques.",
        "M'inscrire",
        "Votre demande d'inscription est enregistrée : un courriel vous dira si vous avez "
        "une place ou si vous êtes sur liste d'attente.",
        fields="names",
    ),
    "cancel": Offer(
        "Annuler votre inscription",
        "Vous ne pourrez pas participer ? Libérez votre place pour une autre personne.",
        "Annuler mon inscription",
        "Votre inscription est annulée ; votre place est libérée.",
    ),
    "question": Offer(
        "Proposer une question",
        "Apportez une question ou un cas à traiter pendant la séance.",
        "Envoyer ma question",
        "Votre question est transmise à l'équipe d'animation. Merci !",
        fields="question",
    ),
    "rate": Offer(
        "Donner votre avis",
        "Comment avez-vous trouvé cette séance ?",
        "Envoyer mon avis",
        "Merci pour votre avis : il aide à préparer les prochaines séances.",
        fields="rate",
    ),
    "expert_accept": Offer(
        "Accepter l'invitation",
        "Vous acceptez d'intervenir comme personne experte lors de cette séance.",
        "J'accepte d'intervenir",
        "Merci ! L'équipe d'animation est prévenue et vous recevrez l'invitation à la séance.",
        fields="note",
    ),
    "expert_decline": Offer(
        "Décliner l'invitation",
        "Vous ne pourrez pas intervenir lors de cette séance.",
        "Décliner l'invitation",
        "C'est noté : l'équipe d'animation est prévenue. Merci de votre réponse.",
        fields="note",
    ),
}

UNSUBSCRIBE: dict[str, Offer] = {
    "member": Offer(
        "Quitter le groupe",
        "Vous quittez le groupe d'échange de pratiques : vous ne recevrez plus ses "
        "courriels et vos inscriptions aux prochaines séances seront annulées.",
        "Me désinscrire",
        "Votre départ du groupe est enregistré : vous ne recevrez plus ses courriels.",
    ),
    "interested": Offer(
        "Ne plus être informé(e)",
        "Vous ne souhaitez plus être informé(e) des séances du groupe.",
        "Me désinscrire",
        "C'est noté : vous ne serez plus informé(e) des séances.",
    ),
    "expert": Offer(
        "Ne plus être sollicité(e)",
        "Vous déclinez l'invitation à intervenir lors de cette séance.",
        "Décliner l'invitation",
        "C'est noté : l'équipe d'animation est prévenue.",
    ),
}

SESSION_ACTIONS = frozenset(
    {"confirm_signup", "signup", "cancel", "question", "rate", "expert_accept", "expert_decline"}
)
SIGNUPS = frozenset({"confirm_signup", "signup"})
CONFIRMATIONS = frozenset({"confirm_signup", "confirm_interest"})


def offer(link: Link) -> Offer:
    """How the link's page presents its action (the link is usable)."""
    if link.action == "unsubscribe":
        return UNSUBSCRIBE[link.audience or "member"]
    return OFFERS[link.action]


def done_text(action: str) -> str:
    """What a used link did, for the 'already done' page (its stored action)."""
    found = OFFERS.get(action) or UNSUBSCRIBE.get(action.removeprefix("unsubscribe:"))
    return found.done if found else "Cette action a été faite."


def used_action(link: Link) -> str:
    """What is recorded of a used link: its action (and audience)."""
    return f"unsubscribe:{link.audience}" if link.action == "unsubscribe" else link.action


def usable(link: Link) -> bool:
    """True when the link carries what its action needs (else it is an unknown link)."""
    texts = (link.session_id, link.first_name, link.last_name, link.organisation, link.audience)
    if not all(text is None or isinstance(text, str) for text in texts) or not all(
        isinstance(topic, str) for topic in link.topic_ids
    ):
        return False  # only a holder of LINK_SECRET could sign such a payload
    if isinstance(check_address(link.email), InvalidAddress):
        return False
    if link.action in SESSION_ACTIONS and not link.session_id:
        return False
    if link.action in CONFIRMATIONS and not (link.first_name and link.last_name):
        return False
    if link.action == "unsubscribe":
        if link.audience not in UNSUBSCRIBE:
            return False
        if link.audience == "expert" and not link.session_id:
            return False
    return True


def missing_names(link: Link) -> list[str]:
    """The names a `signup` link lacks, which its page asks for."""
    if link.action != "signup":
        return []
    return [
        name
        for name, value in (("first_name", link.first_name), ("last_name", link.last_name))
        if not value
    ]


def request_for(link: Link, form: forms.Form, *, at: datetime) -> CloudEvent[Any] | forms.Errors:
    """The event the link's POST publishes, or what is wrong with the form."""
    errors: forms.Errors = {}
    data = _data(link, form, errors)
    if errors:
        return errors
    model, payload = data
    try:
        return model.model_validate(
            {
                "specversion": "1.0",
                "id": link.event_id,
                "type": model.event_type,
                "source": SOURCE,
                "time": at,
                "subject": payload.get("session_id") or person_key(link.email),
                "data": payload,
            }
        )
    except ValidationError:
        return {"": "Ce lien ne peut pas être utilisé : son contenu n'est pas valide."}


def _data(
    link: Link, form: forms.Form, errors: forms.Errors
) -> tuple[type[CloudEvent[Any]], dict[str, Any]]:
    person = {"email": link.email, "first_name": link.first_name, "last_name": link.last_name}
    session = {"session_id": link.session_id, "email": link.email}
    if link.action in SIGNUPS:
        names = {
            name: forms.line(form, name, _LABELS[name], 100, errors) for name in missing_names(link)
        }
        return SessionSignupRequested, {
            **session,
            **person,
            **names,
            "organisation": link.organisation,
        }
    if link.action == "confirm_interest":
        return InterestDeclared, {
            **person,
            "organisation": link.organisation,
            "topic_ids": list(link.topic_ids),
            "consent": True,
        }
    if link.action == "cancel":
        return SessionSignupCancelled, session
    if link.action == "unsubscribe":
        if link.audience == "interested":
            return InterestWithdrawn, {"email": link.email}
        if link.audience == "expert":
            return ExpertResponseSubmitted, {**session, "response": "declined"}
        return MemberLeaveRequested, {"email": link.email, "erase": False}
    if link.action == "question":
        question = forms.text_block(form, "question", "votre question", 2000, errors, required=True)
        return SessionQuestionSubmitted, {**session, "question": question}
    if link.action == "rate":
        rating = forms.rating(form, errors)
        comment = forms.text_block(form, "comment", "le commentaire", 5000, errors, required=False)
        return FeedbackSubmitted, {**session, "rating": rating, "comment": comment or None}
    note = forms.text_block(form, "note", "la note", 5000, errors, required=False)
    response = "accepted" if link.action == "expert_accept" else "declined"
    return ExpertResponseSubmitted, {**session, "response": response, "note": note or None}


_LABELS = {"first_name": "votre prénom", "last_name": "votre nom"}
