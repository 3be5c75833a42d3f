import { Button, Card, Col, Row, Space, Statistic, Typography } from "antd";
import { lazy, Suspense, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, type Query } from "../../api/client";
import type { OrgNode } from "../../api/types";
import { useSession } from "../../auth/useSession";
import { ENUMS, enumLabel } from "../../components/labels";
import { subtreeCodes } from "../../components/nodes";
import { useLang } from "../../lang";

const Chart = lazy(() => import("../../components/Chart"));
const CUSTOMER = "/tmf-api/customerManagement/v4/customer";

/** A count from the server (X-Total-Count of a one-row page): the dashboard never pages through data. */
async function count(query: Query): Promise<number> {
  const r = await api.get<unknown[]>(CUSTOMER, { query: { ...query, limit: 1, fields: "id" } });
  return r.total ?? 0;
}

function bar(names: string[], values: number[], name: string) {
  return {
    tooltip: {},
    grid: { left: 40, right: 10, top: 20, bottom: 50 },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name, type: "bar", data: values, itemStyle: { color: "#1f5fbf" } }],
  };
}

export default function Dashboard() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const session = useSession();
  const home = session?.claims.scope_node ?? "";
  const [nodes, setNodes] = useState<OrgNode[]>([]);
  const [focus, setFocus] = useState<string>(home);
  const [grades, setGrades] = useState<number[]>([]);
  const [industries, setIndustries] = useState<number[]>([]);
  const [byNode, setByNode] = useState<{ code: string; n: number }[]>([]);
  const [candidates, setCandidates] = useState(0);
  const [designations, setDesignations] = useState<{ ACTIVE: number; WITHDRAWN: number }>({ ACTIVE: 0, WITHDRAWN: 0 });

  useEffect(() => {
    api.get<OrgNode[]>("/api/v1/org/nodes", { query: { limit: 1000 } }).then((r) => setNodes(r.data)).catch(() => setNodes([]));
    Promise.all(ENUMS.grade.map((g) => count({ grade: g }))).then(setGrades).catch(() => undefined);
    Promise.all(ENUMS.industry.map((i) => count({ industry: i }))).then(setIndustries).catch(() => undefined);
    count({ recognitionStatus: "CANDIDATE" }).then(setCandidates).catch(() => undefined);
    Promise.all(
      (["ACTIVE", "WITHDRAWN"] as const).map(async (s) => (await api.get<unknown[]>("/api/v1/customer/designations", { query: { status: s, limit: 1 } })).total ?? 0),
    )
      .then(([a, w]) => setDesignations({ ACTIVE: a ?? 0, WITHDRAWN: w ?? 0 }))
      .catch(() => undefined);
  }, []);

  // customers by node: the focused node itself and each child's whole subtree (drill down on click)
  useEffect(() => {
    if (!nodes.length || !focus) return;
    const children = nodes.filter((n) => n.parent === focus).map((n) => n.code);
    const groups = [{ code: focus, codes: [focus] }, ...children.map((c) => ({ code: c, codes: subtreeCodes(nodes, c) }))];
    Promise.all(groups.map(async (g) => ({ code: g.code, n: await count({ ownerNode: g.codes.join(",") }) })))
      .then(setByNode)
      .catch(() => undefined);
  }, [nodes, focus]);

  const nodeName = (code: string) => {
    const n = nodes.find((x) => x.code === code);
    return n ? (lang === "zh" ? n.nameZh : n.nameEn) : code;
  };
  const gradeOption = useMemo(
    () => ({
      tooltip: {},
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["30%", "55%"], center: ["50%", "45%"], data: ENUMS.grade.map((g, i) => ({ name: enumLabel(t, "grade", g), value: grades[i] ?? 0 })) }],
    }),
    [grades, t],
  );
  const industryOption = useMemo(() => bar(ENUMS.industry.map((i) => enumLabel(t, "industry", i)), industries, t("dashboard.customers")), [industries, t]);
  const nodeOption = useMemo(() => bar(byNode.map((b) => nodeName(b.code)), byNode.map((b) => b.n), t("dashboard.customers")), [byNode, t, nodes, lang]); // eslint-disable-line react-hooks/exhaustive-deps
  const focusNode = nodes.find((n) => n.code === focus);

  return (
    <Space direction="vertical" style={{ width: "100%" }} size="middle" data-testid="dashboard">
      <Typography.Title level={4}>{t("dashboard.title")}</Typography.Title>
      <Row gutter={16}>
        <Col span={6}>
          <Card size="small" data-testid="total-customers">
            <Statistic title={t("dashboard.customers")} value={grades.reduce((a, b) => a + b, 0)} />
          </Card>
        </Col>
        <Col span={6}>
          <Card size="small">
            <Statistic title={t("dashboard.candidates")} value={candidates} />
          </Card>
        </Col>
        <Col span={6}>
          <Card size="small">
            <Statistic title={`${t("dashboard.designations")} · ${enumLabel(t, "designationStatus", "ACTIVE")}`} value={designations.ACTIVE} />
          </Card>
        </Col>
        <Col span={6}>
          <Card size="small">
            <Statistic title={`${t("dashboard.designations")} · ${enumLabel(t, "designationStatus", "WITHDRAWN")}`} value={designations.WITHDRAWN} />
          </Card>
        </Col>
      </Row>
      <Suspense fallback={null}>
        <Row gutter={16}>
          <Col span={8}>
            <Card title={t("dashboard.byGrade")} size="small">
              <Chart option={gradeOption} height={280} testId="chart-grade" />
            </Card>
          </Col>
          <Col span={16}>
            <Card title={t("dashboard.byIndustry")} size="small">
              <Chart option={industryOption} height={280} testId="chart-industry" />
            </Card>
          </Col>
        </Row>
        <Card
          title={`${t("dashboard.byNode")} · ${nodeName(focus)}`}
          size="small"
          extra={
            <Space>
              <Typography.Text type="secondary">{t("dashboard.drill")}</Typography.Text>
              {focus !== home && focusNode?.parent && (
                <Button size="small" onClick={() => setFocus(focusNode.parent ?? home)}>
                  {t("dashboard.up")}
                </Button>
              )}
            </Space>
          }
        >
          <Chart
            option={nodeOption}
            height={260}
            testId="chart-node"
            onClick={(p) => {
              const target = byNode[p.dataIndex]?.code;
              if (target && target !== focus && nodes.some((n) => n.parent === target)) setFocus(target);
            }}
          />
        </Card>
      </Suspense>
    </Space>
  );
}
