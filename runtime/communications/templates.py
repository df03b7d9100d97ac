"""The template library: saving checks a template by rendering it, and every edit is a new version."""

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from designer.models import TemplateVersion
from kernel.errors import Conflict, Malformed, NotFound, RuleBroken

from ..actors import Actor
from .models import Channel
from .rendering import RenderError, render, sample_context

KEY = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
MAX_BODY = 100_000
SMS_MAX = 1_000


class InvalidTemplate(RuleBroken):
    """A template that cannot render: 422 with the field, the line and the message."""

    def __init__(self, field: str, error: RenderError):
        where = f" (ligne {error.line})" if error.line else ""
        super().__init__(f"Le modèle ne peut pas être enregistré : {field}{where} : {error.message}.",
                         code="invalid_template", field=field, line=error.line, detail=error.message)


def latest(session: Session, key: str) -> TemplateVersion | None:
    return session.scalar(select(TemplateVersion).where(TemplateVersion.key == key)
                          .order_by(TemplateVersion.version.desc()).limit(1))


def get_template(session: Session, key: str, version: int | None = None) -> TemplateVersion:
    if version is None:
        found = latest(session, key)
    else:
        found = session.scalar(select(TemplateVersion).where(TemplateVersion.key == key,
                                                             TemplateVersion.version == version))
    if found is None:
        raise NotFound(f"Aucun modèle « {key} »" + (f" en version {version}." if version else "."))
    return found


def versions_of(session: Session, key: str) -> list[TemplateVersion]:
    return list(session.scalars(select(TemplateVersion).where(TemplateVersion.key == key)
                                .order_by(TemplateVersion.version)))


def list_templates(session: Session) -> list[TemplateVersion]:
    """The latest version of every template, by key."""
    newest = (select(TemplateVersion.key, func.max(TemplateVersion.version).label("version"))
              .group_by(TemplateVersion.key).subquery())
    query = select(TemplateVersion).join(newest, (TemplateVersion.key == newest.c.key)
                                         & (TemplateVersion.version == newest.c.version))
    return list(session.scalars(query.order_by(TemplateVersion.key)))


def check_template(channel: str, subject: str, body: str, html: bool, now: datetime) -> None:
    """Renders subject and body against a sample dossier: a typo or a forbidden construct is refused now,
    not when the letter is due."""
    context = sample_context(now.date())
    for field, source, escaped in (("subject", subject, False), ("body", body, html)):
        try:
            render(source, context, html=escaped)
        except RenderError as error:
            raise InvalidTemplate(field, error) from error
    if channel == Channel.SMS and len(body) > SMS_MAX:
        raise RuleBroken(f"Un SMS fait {SMS_MAX} caractères au plus.", code="invalid_template", field="body")


def _clean(key: str, channel: str, subject: str | None, body: str, html: bool) -> tuple[str, str]:
    if not isinstance(key, str) or not KEY.match(key):
        raise Malformed("La clé d'un modèle s'écrit en minuscules, chiffres et _ (ex. relance_amiable).")
    if channel not in set(Channel):
        raise Malformed(f"Canal inconnu : {channel!r} (email, letter ou sms).")
    if not isinstance(body, str) or not body.strip():
        raise Malformed("Le corps du modèle est obligatoire.")
    if len(body) > MAX_BODY or len(subject or "") > 1000:
        raise Malformed(f"Le modèle dépasse {MAX_BODY} caractères.")
    subject = (subject or "").strip()
    if channel == Channel.EMAIL and not subject:
        raise Malformed("Un e-mail a besoin d'un objet.")
    if html and channel != Channel.EMAIL:
        raise Malformed("Seul un e-mail peut être écrit en HTML.")
    return subject, body


def create_template(session: Session, actor: Actor, now: datetime, *, key: str, channel: str, body: str,
                    subject: str | None = None, name: str | None = None,
                    html: bool = False) -> TemplateVersion:
    subject, body = _clean(key, channel, subject, body, html)
    if latest(session, key) is not None:
        raise Conflict(f"Le modèle « {key} » existe déjà : modifiez-le (nouvelle version).")
    check_template(channel, subject, body, html, now)
    return _add(session, actor, now, key, 1, channel, name, subject, body, html)


def update_template(session: Session, actor: Actor, now: datetime, key: str, *, body: str | None = None,
                    subject: str | None = None, channel: str | None = None, name: str | None = None,
                    html: bool | None = None) -> TemplateVersion:
    """Adds the next version; the earlier ones stay, and so do the communications rendered from them.
    Saving the same content again adds nothing."""
    current = get_template(session, key)
    channel = channel or current.channel
    html = current.html if html is None else html
    subject, body = _clean(key, channel, current.subject if subject is None else subject,
                           current.body if body is None else body, html)
    name = current.name if name is None else name
    if (channel, subject, body, html, name) == (current.channel, current.subject, current.body, current.html,
                                                current.name):
        return current
    check_template(channel, subject, body, html, now)
    return _add(session, actor, now, key, current.version + 1, channel, name, subject, body, html)


def _add(session: Session, actor: Actor, now: datetime, key: str, version: int, channel: str,
         name: str | None, subject: str, body: str, html: bool) -> TemplateVersion:
    template = TemplateVersion(key=key, version=version, channel=channel, name=name, subject=subject,
                               body=body, html=html, created_at=now, created_by=actor.label)
    try:
        with session.begin_nested():
            session.add(template)
    except IntegrityError as error:  # two people saved the same template at the same moment
        raise Conflict(f"Le modèle « {key} » vient d'être modifié par quelqu'un d'autre : rechargez-le.") \
            from error
    return template
