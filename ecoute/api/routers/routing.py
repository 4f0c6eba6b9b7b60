"""Routing rules: which department follows up which items (officers and admins change them,
every reading key sees them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy.orm import Session

from ecoute.api.deps import (
    AuthorityDep,
    AuthorityQuery,
    OfficerKey,
    SessionDep,
    SettingsDep,
    WriterSessionDep,
    key_actor,
    scoped_authority,
)
from ecoute.api.followup_schemas import (
    RoutingRuleIn,
    RoutingRuleOut,
    RoutingRulePatch,
    RoutingRulesOut,
)
from ecoute.api.schemas import COMMON_ERRORS, MAX_ID, error_responses
from ecoute.store.departments import department_names
from ecoute.store.models import RoutingRule
from ecoute.store.routing import (
    RuleCriteria,
    add_rule,
    change_rule,
    get_rule,
    list_rules,
    remove_rule,
)

router = APIRouter(tags=["routing"], responses=COMMON_ERRORS)
RuleId = Annotated[int, Path(ge=1, le=MAX_ID, description="Id of the rule")]
CRITERIA = ("source_id", "channel", "site_id", "determinant", "polarity", "lang", "keyword",
            "category")


def _out(rule: RoutingRule, names: dict[int, str]) -> RoutingRuleOut:
    return RoutingRuleOut(
        id=rule.id, position=rule.position, department_id=rule.department_id,
        department=names.get(rule.department_id, ""), source_id=rule.source_id,
        channel=rule.channel, site_id=rule.site_id, determinant=rule.determinant,
        polarity=rule.polarity, lang=rule.lang, keyword=rule.keyword, category=rule.category,
        created_at=rule.created_at, created_by=rule.created_by,
    )


def _rule_out(session: Session, rule: RoutingRule) -> RoutingRuleOut:
    return _out(rule, department_names(session, {rule.department_id}))


@router.get("/routing-rules", response_model=RoutingRulesOut)
def get_routing_rules(session: SessionDep, settings: SettingsDep,
                      authority: AuthorityDep) -> RoutingRulesOut:
    """The authority's rules in the order they are tried, and where unmatched items go."""
    rules = list_rules(session, authority.id)
    names = department_names(session, {r.department_id for r in rules})
    return RoutingRulesOut(
        rules=[_out(r, names) for r in rules],
        default_department=settings.default_department(authority.slug),
        response_promise_working_days=settings.response_promise(authority.slug),
    )


@router.post("/routing-rules", response_model=RoutingRuleOut, status_code=201,
             responses=error_responses(404))
def post_routing_rule(body: RoutingRuleIn, session: WriterSessionDep, settings: SettingsDep,
                      key: OfficerKey, authority: AuthorityQuery = None) -> RoutingRuleOut:
    """Add a rule (officer or admin keys). It applies to items classified from now on;
    `ecoute routing apply --since DATE` routes earlier ones again."""
    owner = scoped_authority(session, settings, key, authority)
    criteria = RuleCriteria(**{name: getattr(body, name) for name in CRITERIA})
    if body.channel is not None:
        criteria.channel = body.channel.value
    rule = add_rule(session, owner, body.department, criteria, position=body.position,
                    created_by=key_actor(key))
    return _rule_out(session, rule)


@router.patch("/routing-rules/{rule_id}", response_model=RoutingRuleOut,
              responses=error_responses(404))
def patch_routing_rule(rule_id: RuleId, body: RoutingRulePatch, session: WriterSessionDep,
                       key: OfficerKey) -> RoutingRuleOut:
    """Change a rule's department, criteria (null removes one) or position."""
    rule = get_rule(session, rule_id, key.authority_id)
    given = body.model_dump(exclude_unset=True)
    criteria = {name: given[name] for name in CRITERIA if name in given}
    if criteria.get("channel") is not None:
        criteria["channel"] = str(criteria["channel"])
    change_rule(session, rule, department=given.get("department"), criteria=criteria,
                position=given.get("position"))
    return _rule_out(session, rule)


@router.delete("/routing-rules/{rule_id}", status_code=204, response_class=Response,
               responses=error_responses(404))
def delete_routing_rule(rule_id: RuleId, session: WriterSessionDep, key: OfficerKey) -> None:
    """Remove a rule; the items it routed keep their department until routing runs again."""
    remove_rule(session, get_rule(session, rule_id, key.authority_id))
