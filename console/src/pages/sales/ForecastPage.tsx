// The sales forecast (销售预测) by node with drill-down: for a month or a quarter of close dates, the
// pipeline / weighted / committed of the node's own deals and of each child's subtree; a child's line
// drills into it (the breadcrumb goes back up); at a leaf, the same figures by account manager.
import { Alert, Breadcrumb, Button, Card, DatePicker, Segmented, Space, Spin, Table, Typography, type TableProps } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { useSession } from "../../auth/useSession";
import { formatMoney } from "./logic";
import { canDrill, drillInto, drillUp, isLeaf, moneyNumber, periodRange, type Forecast, type ForecastLine, type PeriodKind } from "./marketing";

const Chart = lazy(() => import("../../components/Chart"));
const FORECAST = "/api/v1/sales/forecast";

function useForecast(query: { start: string; end: string; node?: string; by: "node" | "accountManager" }, enabled = true): { data: Forecast | null; error: string | null } {
  const [data, setData] = useState<Forecast | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify(query);
  useEffect(() => {
    if (!enabled) return;
    const ctrl = new AbortController();
    setData(null);
    api
      .get<Forecast>(FORECAST, { query: JSON.parse(key) as Record<string, string>, signal: ctrl.signal })
      .then((r) => {
        setData(r.data);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [key, enabled]);
  return { data, error };
}

export default function ForecastPage() {
  const { t } = useTranslation();
  const [kind, setKind] = useState<PeriodKind>("quarter");
  const [day, setDay] = useState<Dayjs>(() => dayjs());
  const session = useSession();
  // the drill-down starts at the user's scope node (the API's default node)
  const [path, setPath] = useState<string[]>(() => (session?.claims.scope_node ? [session.claims.scope_node] : []));
  const { start, end } = periodRange(kind, day);
  const node = path[path.length - 1];
  const byNode = useForecast({ start, end, node, by: "node" });
  const current = byNode.data?.node ?? node ?? "";
  useEffect(() => {
    if (byNode.data && path.length === 0) setPath([byNode.data.node]); // the scope's node, named by the first answer
  }, [byNode.data, path.length]);
  const leaf = byNode.data ? isLeaf(byNode.data.lines, current) : false;
  const byManager = useForecast({ start, end, node: current, by: "accountManager" }, leaf && !!current);

  const columns = (by: "node" | "accountManager"): TableProps<ForecastLine>["columns"] => [
    by === "node"
      ? {
          key: "node",
          title: t("salesMarketing.node"),
          render: (_, r) => (
            <span data-testid={`forecast-node-${r.node}`}>
              {canDrill(r.node, current) ? (
                <Button type="link" size="small" style={{ padding: 0 }} onClick={() => setPath((p) => drillInto(p, r.node ?? ""))} data-testid={`forecast-drill-${r.node}`}>
                  {r.node}
                </Button>
              ) : (
                <>
                  {r.node} <Typography.Text type="secondary">({t("salesMarketing.own")})</Typography.Text>
                </>
              )}
            </span>
          ),
        }
      : { key: "am", title: t("salesMarketing.accountManager"), render: (_, r) => r.accountManager ?? "—" },
    { key: "currency", title: t("salesMarketing.currency"), dataIndex: "currency" },
    { key: "openCount", title: t("salesMarketing.openCount"), align: "right", dataIndex: "openCount" },
    { key: "pipeline", title: t("salesMarketing.pipeline"), align: "right", render: (_, r) => <span data-testid="forecast-pipeline">{formatMoney(r.pipeline)}</span> },
    { key: "weighted", title: t("salesMarketing.weighted"), align: "right", render: (_, r) => <span data-testid="forecast-weighted">{formatMoney(r.weighted)}</span> },
    { key: "committed", title: t("salesMarketing.committed"), align: "right", render: (_, r) => <span data-testid="forecast-committed">{formatMoney(r.committed)}</span> },
    { key: "wonCount", title: t("salesMarketing.wonCount"), align: "right", dataIndex: "wonCount" },
  ];

  const lines = useMemo(() => byNode.data?.lines ?? [], [byNode.data]);
  const option = useMemo(() => {
    // one currency on the chart (the first the lines have, CNY in practice); the table has them all
    const unit = lines[0]?.currency;
    const shown = lines.filter((l) => l.currency === unit);
    const series = (["pipeline", "weighted", "committed"] as const).map((k) => ({ name: t(`salesMarketing.${k}`), type: "bar", data: shown.map((l) => moneyNumber(l[k])) }));
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 80, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: shown.map((l) => l.node ?? "") },
      yAxis: { type: "value", name: unit },
      series,
    };
  }, [lines, t]);

  return (
    <Card
      title={t("salesMarketing.forecast")}
      data-testid="forecast-page"
      extra={
        <Space>
          <Segmented
            value={kind}
            onChange={(v) => setKind(v as PeriodKind)}
            options={[
              { value: "month", label: t("salesMarketing.month") },
              { value: "quarter", label: t("salesMarketing.quarter") },
            ]}
            data-testid="period-kind"
          />
          <DatePicker picker={kind} value={day} onChange={(d) => d && setDay(d)} allowClear={false} data-testid="period-picker" />
        </Space>
      }
    >
      <Space direction="vertical" style={{ width: "100%" }}>
        <Typography.Text type="secondary" data-testid="forecast-period">
          {t("salesMarketing.closeDateRange", { start, end: dayjs(end).subtract(1, "day").format("YYYY-MM-DD") })}
        </Typography.Text>
        <Breadcrumb items={path.map((n, i) => ({ title: i < path.length - 1 ? <a onClick={() => setPath((p) => drillUp(p, i))}>{n}</a> : n }))} data-testid="forecast-breadcrumb" />
        {byNode.error && <Alert type="error" showIcon message={byNode.error} />}
        {!byNode.data && !byNode.error ? (
          <Spin />
        ) : (
          <>
            <Suspense fallback={<Spin />}>
              <Chart
                option={option}
                height={280}
                testId="forecast-chart"
                onClick={(p) => {
                  if (canDrill(p.name, current)) setPath((x) => drillInto(x, p.name));
                }}
              />
            </Suspense>
            <Table<ForecastLine> rowKey={(r) => `${r.node}-${r.currency}`} size="small" pagination={false} dataSource={lines} columns={columns("node")} data-testid="forecast-table" />
          </>
        )}
        {leaf && (
          <Card size="small" title={t("salesMarketing.byAccountManager")}>
            {byManager.error && <Alert type="error" showIcon message={byManager.error} />}
            <Table<ForecastLine>
              rowKey={(r) => `${r.accountManager}-${r.currency}`}
              size="small"
              pagination={false}
              loading={!byManager.data && !byManager.error}
              dataSource={byManager.data?.lines ?? []}
              columns={columns("accountManager")}
              data-testid="forecast-by-manager"
            />
          </Card>
        )}
      </Space>
    </Card>
  );
}
