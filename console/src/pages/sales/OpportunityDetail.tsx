// One opportunity: its fields, its stage history (oldest first) and, for a writer, the stage change.
import { Button, Card, Descriptions, Result, Space, Spin, Table, type TableProps } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";
import { api } from "../../api/client";
import { ApiError } from "../../api/errors";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { formatMoney, type Opportunity, type StageChange } from "./logic";
import { DecisionChainCard, FollowUpCard } from "./DecisionChain";
import type { ChainAndFollowUp } from "./marketing";
import { StageTag } from "./OpportunityList";
import { OPPORTUNITY, StageForm } from "./StageForm";

const HISTORY = "/api/v1/sales/opportunities/{opportunity_id}/stageHistory";

export default function OpportunityDetail() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const session = useSession();
  const { id = "" } = useParams();
  const [opportunity, setOpportunity] = useState<(Opportunity & ChainAndFollowUp) | null>(null);
  const [history, setHistory] = useState<StageChange[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    const ctrl = new AbortController();
    const path = { opportunity_id: id };
    Promise.all([api.get<Opportunity & ChainAndFollowUp>(OPPORTUNITY, { path, signal: ctrl.signal }), api.get<StageChange[]>(HISTORY, { path, signal: ctrl.signal })])
      .then(([o, h]) => {
        setOpportunity(o.data);
        setHistory(h.data);
        setError(null);
      })
      .catch((e: unknown) => {
        if (ctrl.signal.aborted) return;
        setError(e instanceof ApiError && e.status === 404 ? t("salesPipeline.notFound") : e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [id, reloads, t]);

  if (error) return <Result status="warning" title={error} extra={<Button onClick={() => navigate("/sales/opportunities")}>{t("common.back")}</Button>} />;
  if (!opportunity) return <Spin />;
  const o = opportunity;
  const columns: TableProps<StageChange>["columns"] = [
    { key: "at", title: t("salesPipeline.at"), render: (_, r) => formatTime(r.at) },
    { key: "from", title: t("salesPipeline.from"), render: (_, r) => (r.from ? <StageTag stage={r.from} /> : "—") },
    { key: "to", title: t("salesPipeline.to"), render: (_, r) => <StageTag stage={r.to} /> },
    { key: "probability", title: t("salesPipeline.probability"), align: "right", render: (_, r) => `${r.probability}%` },
    { key: "by", title: t("salesPipeline.by"), dataIndex: "by" },
    { key: "reason", title: t("salesPipeline.reason"), render: (_, r) => r.reason ?? "—" },
  ];
  const open = o.stage !== "WON" && o.stage !== "LOST";
  // the decision chain and the next follow-up are written at the owner node only (409 NOT_OWNER elsewhere)
  const atOwner = hasPermission(session?.claims, "sales.opportunity:write") && session?.claims.node === o.ownerNode;
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="opportunity-detail">
      <Card title={o.name} extra={<Button onClick={() => navigate("/sales/opportunities")}>{t("common.back")}</Button>}>
        <Descriptions column={2} size="small" bordered>
          <Descriptions.Item label={t("salesPipeline.stage")}>
            <StageTag stage={o.stage} />
          </Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.probability")}>{o.probability}%</Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.expectedAmount")}>{formatMoney(o.expectedAmount)}</Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.weightedAmount")}>{formatMoney(o.weightedAmount)}</Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.customer")}>{o.customer.name ?? o.customer.id}</Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.closeDate")}>{o.closeDate ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.accountManager")}>{o.accountManager}</Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.ownerNode")}>{o.ownerNode}</Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.source")}>{o.source}</Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.competitor")}>{o.competitor ?? "—"}</Descriptions.Item>
          {o.closeReason && <Descriptions.Item label={t("salesPipeline.closeReason")}>{o.closeReason}</Descriptions.Item>}
          <Descriptions.Item label={t("salesPipeline.updatedAt")}>{formatTime(o.updatedAt)}</Descriptions.Item>
          <Descriptions.Item label={t("salesPipeline.description")} span={2}>
            {o.description ?? "—"}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      {open && hasPermission(session?.claims, "sales.opportunity:write") && (
        <Card title={t("salesPipeline.changeStage")} size="small">
          <StageForm opportunity={o} onMoved={reload} />
        </Card>
      )}
      <FollowUpCard opportunity={o} editable={atOwner} onSaved={setOpportunity} />
      <DecisionChainCard opportunity={o} editable={atOwner} onSaved={setOpportunity} />
      <Card title={t("salesPipeline.stageHistory")} size="small">
        <Table<StageChange> rowKey={(r) => `${r.at}-${r.to}`} size="small" pagination={false} dataSource={history} columns={columns} data-testid="stage-history" />
      </Card>
    </Space>
  );
}
