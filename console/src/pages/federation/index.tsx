import { Badge, Button, Card, Col, Descriptions, Row, Space, Table, Tag, Tree } from "antd";
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { App } from "antd";
import { api } from "../../api/client";
import type { OrgNode, SyncStatus } from "../../api/types";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { buildTree, type NodeTree } from "../../components/nodes";
import { useLang } from "../../lang";

const Chart = lazy(() => import("../../components/Chart"));
const REFRESH_MS = 5000;
const SAMPLES = 60; // five minutes at one sample every five seconds

export function totalLag(s: SyncStatus): number {
  return (s.streams ?? []).reduce((sum, st) => sum + (st.sources ?? []).reduce((a, src) => a + (src.lag ?? 0), 0), 0);
}

export function deadLetterCount(s: SyncStatus): number {
  const d = s.deadLetters;
  if (typeof d === "number") return d;
  return Object.values(d ?? {}).reduce((a, b) => a + b, 0);
}

export default function Federation() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { lang } = useLang();
  const session = useSession();
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [nodes, setNodes] = useState<OrgNode[]>([]);
  const [samples, setSamples] = useState<{ at: string; lag: number }[]>([]);

  const poll = useCallback(() => {
    api
      .get<SyncStatus>("/api/v1/sync/status")
      .then((r) => {
        setStatus(r.data);
        setSamples((prev) => [...prev, { at: new Date().toLocaleTimeString(), lag: totalLag(r.data) }].slice(-SAMPLES));
      })
      .catch(() => undefined);
  }, []);

  useEffect(() => {
    poll();
    const timer = window.setInterval(poll, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [poll]);

  useEffect(() => {
    if (!hasPermission(session?.claims, "org.node:read")) return;
    api.get<OrgNode[]>("/api/v1/org/nodes", { query: { limit: 1000 } }).then((r) => setNodes(r.data)).catch(() => setNodes([]));
  }, [session]);

  const links = new Map((status?.links ?? []).map((l) => [l.peer, l.connected]));
  const toTree = (n: NodeTree): { key: string; title: React.ReactNode; children: unknown[] } => ({
    key: n.node.code,
    title: (
      <Space>
        {lang === "zh" ? n.node.nameZh : n.node.nameEn} <Tag>{n.node.code}</Tag>
        {n.node.code === status?.node ? <Badge status={status.state === "ok" ? "success" : "warning"} text={t(`federation.${status.state === "ok" ? "ok" : "degraded"}`)} /> : null}
        {links.has(n.node.code) ? <Badge status={links.get(n.node.code) ? "success" : "error"} text={t(links.get(n.node.code) ? "federation.connected" : "federation.disconnected")} /> : null}
      </Space>
    ),
    children: n.children.map(toTree),
  });

  const option = useMemo(
    () => ({
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 20, top: 20, bottom: 30 },
      xAxis: { type: "category", data: samples.map((s) => s.at) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: t("federation.lag"), type: "line", data: samples.map((s) => s.lag), smooth: true, areaStyle: {} }],
    }),
    [samples, t],
  );

  const sources = (status?.streams ?? []).flatMap((st) => (st.sources ?? []).map((s) => ({ ...s, stream: st.name })));

  return (
    <Space direction="vertical" style={{ width: "100%" }} size="middle" data-testid="federation">
      <Card
        title={t("federation.title")}
        extra={
          <Space>
            <Button onClick={poll}>{t("common.refresh")}</Button>
            {hasPermission(session?.claims, "sync:admin") && (
              <Button
                onClick={() =>
                  api
                    .post("/api/v1/sync/resync", { body: {} })
                    .then(() => message.success(t("federation.resyncDone")))
                    .catch((e: unknown) => message.error(e instanceof Error ? e.message : String(e)))
                }
              >
                {t("federation.resync")}
              </Button>
            )}
          </Space>
        }
      >
        <Descriptions size="small" column={4}>
          <Descriptions.Item label={t("common.node")}>{status?.node}</Descriptions.Item>
          <Descriptions.Item label={t("federation.state")}>
            <Tag color={status?.state === "ok" ? "green" : "orange"} data-testid="sync-state">
              {status?.state ?? "…"}
            </Tag>
          </Descriptions.Item>
          <Descriptions.Item label={t("federation.deadLetters")}>{status ? deadLetterCount(status) : "…"}</Descriptions.Item>
          <Descriptions.Item label={t("federation.checkedAt")}>{formatTime(status?.checkedAt)}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Row gutter={16}>
        <Col span={10}>
          <Card title={t("federation.tree")} size="small">
            {nodes.length ? <Tree defaultExpandAll selectable={false} treeData={buildTree(nodes).map(toTree) as never} /> : null}
          </Card>
        </Col>
        <Col span={14}>
          <Card title={t("federation.lagChart")} size="small">
            <Suspense fallback={null}>
              <Chart option={option} height={220} testId="lag-chart" />
            </Suspense>
          </Card>
        </Col>
      </Row>
      <Card title={t("federation.links")} size="small">
        <Table
          size="small"
          rowKey="peer"
          pagination={false}
          dataSource={status?.links ?? []}
          columns={[
            { title: t("federation.peer"), dataIndex: "peer" },
            { title: t("federation.role"), render: (_, l) => t(`federation.${l.role}`) },
            { title: t("federation.state"), render: (_, l) => <Badge status={l.connected ? "success" : "error"} text={t(l.connected ? "federation.connected" : "federation.disconnected")} /> },
          ]}
        />
      </Card>
      <Card title={t("federation.sources")} size="small">
        <Table
          size="small"
          rowKey={(s) => `${s.stream}/${s.name}`}
          pagination={false}
          dataSource={sources}
          columns={[
            { title: "stream", dataIndex: "stream" },
            { title: t("federation.sources"), dataIndex: "name" },
            { title: t("common.node"), dataIndex: "node" },
            { title: t("federation.lag"), dataIndex: "lag" },
            { title: t("federation.idle"), dataIndex: "idleSeconds" },
            { title: t("federation.state"), render: (_, s) => <Tag color={s.ok ? "green" : "red"}>{t(s.ok ? "federation.ok" : "federation.degraded")}</Tag> },
          ]}
        />
      </Card>
      <Card title={t("federation.consumers")} size="small">
        <Table
          size="small"
          rowKey={(c) => `${c.stream}/${c.name}`}
          pagination={false}
          dataSource={status?.consumers ?? []}
          columns={[
            { title: "stream", dataIndex: "stream" },
            { title: t("federation.consumers"), dataIndex: "name" },
            { title: t("federation.pending"), dataIndex: "pending" },
            { title: t("federation.ackPending"), dataIndex: "ackPending" },
            { title: t("federation.redelivered"), dataIndex: "redelivered" },
          ]}
        />
      </Card>
    </Space>
  );
}
