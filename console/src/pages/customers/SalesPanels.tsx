// The customer's sales in its 360 view (issue 11): opportunities, quotes, contracts, visits and the
// campaigns it is a target of — each a paged list of the sales service filtered by the customer
// (`customer.id`; campaigns by `target.customer.id`), shown only with its read permission, each row
// linking to its detail screen.
import { Col, Row, Segmented, Space, Tag, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api } from "../../api/client";
import type { components } from "../../api/gen/sales";
import { usePagedList } from "../../api/useTmfList";
import type { Claims } from "../../auth/session";
import { formatTime } from "../../components/labels";
import { formatMoney } from "../sales/logic";
import { daysToExpiry, detailPath, expiryState, localDay, visiblePanels, type ExpiryState } from "./c360";
import { ListPanel, PANEL_PAGE } from "./ListPanel";

type S = components["schemas"];
type Opportunity = S["OpportunityRead"];
type Quote = S["QuoteRead"];
type Agreement = S["AgreementRead"];
type Visit = S["VisitRead"];
type Campaign = S["CampaignRead"];
type Target = S["TargetRead"];

const EXPIRY_COLORS: Record<ExpiryState, string> = { expired: "red", soon: "orange", inForce: "green", notInForce: "default" };

function OpportunitiesPanel({ customerId }: { customerId: string }) {
  const { t } = useTranslation();
  const list = usePagedList<Opportunity>("/api/v1/sales/opportunities", { "customer.id": customerId, sort: "-updatedAt" }, PANEL_PAGE);
  const now = Date.now();
  return (
    <ListPanel<Opportunity>
      title={t("customer360.opportunities")}
      testId="c360-opportunities"
      list={list}
      columns={[
        { title: t("customer360.name"), render: (_, o) => <Link to={detailPath("opportunities", o.id)}>{o.name}</Link> },
        { title: t("customer360.stage"), render: (_, o) => <Tag>{t(`salesPipeline.stages.${o.stage ?? ""}`, { defaultValue: o.stage ?? "—" })}</Tag> },
        { title: t("customer360.expectedAmount"), align: "right", render: (_, o) => formatMoney(o.expectedAmount) },
        { title: t("customer360.closeDate"), render: (_, o) => o.closeDate ?? "—" },
        {
          title: t("customer360.nextFollowUp"),
          render: (_, o) => {
            const at = typeof o.nextFollowUp?.at === "string" ? o.nextFollowUp.at : null;
            if (!at) return "—";
            const open = o.stage !== "WON" && o.stage !== "LOST";
            return (
              <Space size={4}>
                {formatTime(at)}
                {open && Date.parse(at) < now && <Tag color="red">{t("customer360.overdue")}</Tag>}
              </Space>
            );
          },
        },
      ]}
    />
  );
}

function QuotesPanel({ customerId }: { customerId: string }) {
  const { t } = useTranslation();
  const list = usePagedList<Quote>("/tmf-api/quoteManagement/v4/quote", { "customer.id": customerId, sort: "-updatedAt" }, PANEL_PAGE);
  return (
    <ListPanel<Quote>
      title={t("customer360.quotes")}
      testId="c360-quotes"
      list={list}
      columns={[
        { title: t("customer360.number"), render: (_, q) => <Link to={detailPath("quotes", q.id)}>{q.number ?? q.id.slice(0, 8)}</Link> },
        { title: t("customer360.name"), dataIndex: "name" },
        { title: t("customer360.status"), render: (_, q) => <Tag>{t(`customer360.quoteStates.${q.state ?? ""}`, { defaultValue: q.state ?? "—" })}</Tag> },
        { title: t("customer360.total"), align: "right", render: (_, q) => formatMoney(q.total) },
        { title: t("customer360.validUntil"), render: (_, q) => q.validUntil ?? "—" },
      ]}
    />
  );
}

export function ExpiryCell({ a, today }: { a: Pick<Agreement, "status" | "agreementPeriod">; today: string }) {
  const { t } = useTranslation();
  const days = daysToExpiry(a.agreementPeriod?.endDateTime, today);
  const state = expiryState(a.status, days);
  if (days === null || state === "notInForce") return <span data-state={state}>—</span>;
  const text = days > 0 ? t("customer360.daysLeft", { count: days }) : days === 0 ? t("customer360.expiresToday") : t("customer360.expiredAgo", { count: -days });
  return (
    <Tag color={EXPIRY_COLORS[state]} data-state={state} data-days={days} title={t(`customer360.expiry.${state}`)}>
      {text}
    </Tag>
  );
}

function ContractsPanel({ customerId }: { customerId: string }) {
  const { t } = useTranslation();
  const list = usePagedList<Agreement>("/tmf-api/agreementManagement/v4/agreement", { "customer.id": customerId, sort: "agreementPeriod.endDateTime" }, PANEL_PAGE);
  const today = localDay(new Date());
  return (
    <ListPanel<Agreement>
      title={t("customer360.contracts")}
      testId="c360-contracts"
      list={list}
      columns={[
        {
          title: t("customer360.number"),
          render: (_, a) => (
            <Space size={4}>
              <Link to={detailPath("contracts", a.id)}>{a.number ?? a.id.slice(0, 8)}</Link>
              <Typography.Text type="secondary">{t("customer360.agreementVersion", { version: a.agreementVersion ?? 1 })}</Typography.Text>
            </Space>
          ),
        },
        { title: t("customer360.status"), render: (_, a) => <Tag>{t(`customer360.contractStatuses.${a.status ?? ""}`, { defaultValue: a.status ?? "—" })}</Tag> },
        { title: t("customer360.period"), render: (_, a) => (a.agreementPeriod ? `${a.agreementPeriod.startDateTime} ~ ${a.agreementPeriod.endDateTime}` : "—") },
        { title: t("customer360.daysToExpiry"), render: (_, a) => <ExpiryCell a={a} today={today} /> },
        { title: t("customer360.renewalStatus"), render: (_, a) => t(`customer360.renewal.${a.renewalStatus ?? "none"}`, { defaultValue: a.renewalStatus ?? "—" }) },
      ]}
    />
  );
}

function VisitsPanel({ customerId }: { customerId: string }) {
  const { t } = useTranslation();
  const [status, setStatus] = useState<string>("");
  const list = usePagedList<Visit>("/api/v1/sales/visits", { "customer.id": customerId, status: status || undefined, sort: "-plannedAt" }, PANEL_PAGE);
  return (
    <ListPanel<Visit>
      title={t("customer360.visits")}
      testId="c360-visits"
      list={list}
      extra={
        <Segmented
          size="small"
          value={status}
          onChange={(v) => setStatus(String(v))}
          options={[
            { value: "", label: t("customer360.all") },
            { value: "planned", label: t("customer360.planned") },
            { value: "done", label: t("customer360.recorded") },
          ]}
        />
      }
      columns={[
        { title: t("customer360.subject"), render: (_, v) => <Link to={detailPath("visits", v.id)}>{v.subject}</Link> },
        { title: t("customer360.status"), render: (_, v) => <Tag>{t(`customer360.visitStatuses.${v.status ?? ""}`, { defaultValue: v.status ?? "—" })}</Tag> },
        { title: t("customer360.plannedAt"), render: (_, v) => formatTime(v.plannedAt) },
        { title: t("customer360.visitedAt"), render: (_, v) => formatTime(v.visitedAt) },
        { title: t("customer360.outcome"), render: (_, v) => (v.outcome ? t(`customer360.outcomes.${v.outcome}`, { defaultValue: v.outcome }) : "—") },
      ]}
    />
  );
}

/** The customer's own line of a campaign's target list: its response. */
function CampaignResponse({ campaignId, customerId }: { campaignId: string; customerId: string }) {
  const { t } = useTranslation();
  const [target, setTarget] = useState<Target | null | undefined>(undefined);
  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<Target[]>("/api/v1/sales/campaigns/{campaign_id}/targets", { path: { campaign_id: campaignId }, query: { "customer.id": customerId, limit: 10 }, signal: ctrl.signal })
      .then((r) => setTarget(r.data[0] ?? null))
      .catch(() => {
        if (!ctrl.signal.aborted) setTarget(null);
      });
    return () => ctrl.abort();
  }, [campaignId, customerId]);
  if (target === undefined) return null;
  if (target === null) return <span>—</span>;
  return (
    <Space size={4}>
      <Tag color={target.response === "converted" ? "green" : target.response === "interested" ? "blue" : "default"} data-response={target.response}>
        {t(`customer360.responses.${target.response}`, { defaultValue: target.response })}
      </Tag>
      {target.opportunity?.id && <Link to={detailPath("opportunities", target.opportunity.id)}>{t("customer360.opportunities")}</Link>}
    </Space>
  );
}

function CampaignsPanel({ customerId }: { customerId: string }) {
  const { t } = useTranslation();
  const list = usePagedList<Campaign>("/api/v1/sales/campaigns", { "target.customer.id": customerId, sort: "-createdAt" }, PANEL_PAGE);
  return (
    <ListPanel<Campaign>
      title={t("customer360.campaigns")}
      testId="c360-campaigns"
      list={list}
      columns={[
        { title: t("customer360.name"), render: (_, c) => <Link to={detailPath("campaigns", c.id)}>{c.name}</Link> },
        { title: t("customer360.status"), render: (_, c) => <Tag>{t(`customer360.campaignStatuses.${c.status ?? ""}`, { defaultValue: c.status ?? "—" })}</Tag> },
        { title: t("customer360.campaignPeriod"), render: (_, c) => (c.period ? `${c.period.startDateTime} ~ ${c.period.endDateTime}` : "—") },
        { title: t("customer360.response"), render: (_, c) => <CampaignResponse campaignId={c.id} customerId={customerId} /> },
      ]}
    />
  );
}

/** The sales panels this token may see, two to a row. */
export default function SalesPanels({ customerId, claims }: { customerId: string; claims: Claims | null | undefined }) {
  const shown = new Set(visiblePanels(claims));
  const panels = [
    shown.has("opportunities") && <OpportunitiesPanel key="o" customerId={customerId} />,
    shown.has("quotes") && <QuotesPanel key="q" customerId={customerId} />,
    shown.has("contracts") && <ContractsPanel key="c" customerId={customerId} />,
    shown.has("visits") && <VisitsPanel key="v" customerId={customerId} />,
    shown.has("campaigns") && <CampaignsPanel key="m" customerId={customerId} />,
  ].filter(Boolean);
  if (panels.length === 0) return null;
  return (
    <Row gutter={[16, 16]} data-testid="c360-sales">
      {panels.map((p, i) => (
        <Col key={i} xs={24} xl={12}>
          {p}
        </Col>
      ))}
    </Row>
  );
}
