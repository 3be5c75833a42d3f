// 服务质量看板: GET /api/v1/service/quality for a period (kept in the URL), within the caller's scope.
// Cards for the totals, a table per owner node with drill-downs into the ticket list, one bar chart.
import { Alert, Card, Col, DatePicker, Row, Segmented, Space, Spin, Statistic, Table, Tag, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { api } from "../../api/client";
import { formatTime } from "../../components/labels";
import { ticketStateToSearch } from "./logic";
import {
  dayRangePeriod,
  drillDown,
  formatScore,
  formatShare,
  mttrParts,
  nodeChartOption,
  openTotals,
  presetPeriod,
  qualityQuery,
  type GradeCount,
  type NodeQuality,
  type PeriodPreset,
  type Quality,
} from "./quality";

const Chart = lazy(() => import("../../components/Chart"));
const PRESETS: PeriodPreset[] = ["7d", "30d", "90d", "month"];

export default function QualityBoard() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const [mountedAt] = useState(() => new Date());
  const period = useMemo(() => {
    const start = params.get("periodStart");
    const end = params.get("periodEnd");
    if (start && end) return { periodStart: start, periodEnd: end };
    return qualityQuery(presetPeriod("30d", mountedAt));
  }, [params, mountedAt]);
  const [data, setData] = useState<Quality | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let live = true;
    setLoading(true);
    api
      .get<Quality>("/api/v1/service/quality", { query: period })
      .then((r) => {
        if (!live) return;
        setData(r.data);
        setError(null);
      })
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [period]);

  const setPeriod = (p: { periodStart: string; periodEnd: string }) => setParams(new URLSearchParams(p));
  const mttr = (minutes: number | null | undefined) => {
    const p = mttrParts(minutes);
    if (!p) return "—";
    return p.d ? t("service.dhm", p) : p.h ? t("service.hm", p) : t("service.mOnly", p);
  };
  const drill = (target: Parameters<typeof drillDown>[0]) => `/service/tickets?${ticketStateToSearch(drillDown(target, period)).toString()}`;
  const label = (k: string) => t(`service.q.${k}`);
  const chart = useMemo(() => (data ? nodeChartOption(data.byNode, (k) => t(`service.q.${k}`)) : null), [data, t]);
  const total = data?.total;
  const open = openTotals(data?.openByGrade ?? []);
  const range: [Dayjs, Dayjs] = [dayjs(period.periodStart), dayjs(period.periodEnd).subtract(1, "millisecond")];

  const card = (key: string, value: string | number, extra?: string) => (
    <Col xs={12} md={6} xl={4} key={key}>
      <Card size="small" data-testid={`q-${key}`}>
        <Statistic title={label(key)} value={value} />
        {extra && <Typography.Text type="secondary">{extra}</Typography.Text>}
      </Card>
    </Col>
  );

  return (
    <Space direction="vertical" size="middle" style={{ width: "100%" }} data-testid="quality-board">
      <Card
        title={t("service.quality")}
        extra={
          <Space wrap>
            <Segmented<PeriodPreset | "custom">
              options={[...PRESETS.map((p) => ({ value: p, label: t(`service.q.presets.${p}`) })), { value: "custom", label: t("service.q.presets.custom") }]}
              value={PRESETS.find((p) => params.get("preset") === p) ?? (params.get("periodStart") ? "custom" : "30d")}
              onChange={(v) => {
                if (v === "custom") return;
                setParams(new URLSearchParams({ ...qualityQuery(presetPeriod(v, new Date())), preset: v }));
              }}
              data-testid="q-presets"
            />
            <DatePicker.RangePicker
              allowClear={false}
              value={range}
              onChange={(v) => {
                if (v?.[0] && v[1]) setPeriod(qualityQuery(dayRangePeriod(v[0].toDate(), v[1].toDate())));
              }}
              data-testid="q-range"
            />
          </Space>
        }
      >
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} />}
        <Typography.Paragraph type="secondary" data-testid="q-period">
          {t("service.q.period", { start: formatTime(period.periodStart), end: formatTime(period.periodEnd), node: data?.scopeNode ?? "" })}
        </Typography.Paragraph>
        {!data ? (
          <Spin />
        ) : (
          total && (
            <Row gutter={[12, 12]}>
              {card("open", open.open, t("service.q.ofWhichBreached", { n: open.breached }))}
              {card("accepted", total.accepted)}
              {card("responseBreached", total.responseBreached)}
              {card("resolveBreached", total.resolveBreached)}
              {card("resolved", total.resolved)}
              {card("mttr", mttr(total.mttrMinutes))}
              {card("closed", total.closed)}
              {card("resolveInSla", formatShare(total.resolveInSla))}
              {card("surveyed", total.surveyed)}
              {card("satisfaction", formatScore(total.satisfaction), t("service.q.satisfiedShareOf", { share: formatShare(total.satisfiedShare) }))}
              {card("reopened", total.reopened)}
            </Row>
          )
        )}
      </Card>
      <Row gutter={16}>
        <Col xs={24} lg={8}>
          <Card size="small" title={t("service.q.openByGrade")}>
            <Table<GradeCount>
              size="small"
              rowKey="grade"
              loading={loading}
              pagination={false}
              dataSource={data?.openByGrade ?? []}
              data-testid="q-grades"
              columns={[
                { title: t("service.customerGrade"), dataIndex: "grade" },
                { title: t("service.q.open"), render: (_, g) => <Link to={drill({ kind: "grade", grade: g.grade })}>{g.open}</Link> },
                { title: t("service.q.breached"), render: (_, g) => (g.breached ? <Tag color="red">{g.breached}</Tag> : 0) },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} lg={16}>
          <Card size="small" title={t("service.q.chart")}>
            <Suspense fallback={<Spin />}>{chart && <Chart option={chart} height={260} testId="q-chart" />}</Suspense>
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t("service.q.byNode")}>
        <Table<NodeQuality>
          size="small"
          rowKey="node"
          loading={loading}
          pagination={false}
          dataSource={data?.byNode ?? []}
          data-testid="q-nodes"
          columns={[
            { title: t("service.ownerNode"), render: (_, n) => <Tag>{n.node}</Tag> },
            { title: label("accepted"), render: (_, n) => <Link to={drill({ kind: "node", node: n.node })}>{n.accepted}</Link> },
            { title: label("responseBreached"), dataIndex: "responseBreached" },
            { title: label("resolveBreached"), dataIndex: "resolveBreached" },
            { title: label("resolved"), dataIndex: "resolved" },
            { title: label("mttr"), render: (_, n) => mttr(n.mttrMinutes) },
            { title: label("closed"), dataIndex: "closed" },
            { title: label("resolveInSla"), render: (_, n) => formatShare(n.resolveInSla) },
            { title: label("satisfaction"), render: (_, n) => formatScore(n.satisfaction) },
            { title: label("satisfiedShare"), render: (_, n) => formatShare(n.satisfiedShare) },
            { title: label("reopened"), dataIndex: "reopened" },
          ]}
        />
      </Card>
    </Space>
  );
}
