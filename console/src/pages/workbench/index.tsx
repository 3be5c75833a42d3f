import { Card, Col, Empty, List, Row, Statistic, Tag, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api } from "../../api/client";
import type { Customer, Designation } from "../../api/types";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { enumLabel, formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";

const CUSTOMER = "/tmf-api/customerManagement/v4/customer";

/** Designations this node has not answered yet (the group designates; provinces and local networks answer). */
export function awaitingAnswer(designations: Designation[], node: string | undefined): Designation[] {
  if (!node) return [];
  return designations.filter((d) => d.status === "ACTIVE" && d.ownerNode !== node && !d.responses.some((r) => r.node === node));
}

export default function Workbench() {
  const { t } = useTranslation();
  const session = useSession();
  const claims = session?.claims;
  const [mine, setMine] = useState<{ rows: Customer[]; total: number } | null>(null);
  const [recent, setRecent] = useState<Customer[]>([]);
  const [awaiting, setAwaiting] = useState<Designation[]>([]);
  const node = nodeInfo()?.code;
  const canRead = hasPermission(claims, "customer:read");

  useEffect(() => {
    if (!canRead || !claims) return;
    api.get<Customer[]>(CUSTOMER, { query: { accountManager: claims.sub, limit: 5, sort: "-updatedAt" } }).then((r) => setMine({ rows: r.data, total: r.total ?? r.data.length })).catch(() => setMine({ rows: [], total: 0 }));
    api.get<Customer[]>(CUSTOMER, { query: { limit: 8, sort: "-updatedAt" } }).then((r) => setRecent(r.data)).catch(() => setRecent([]));
    api.get<Designation[]>("/api/v1/customer/designations", { query: { status: "ACTIVE", limit: 1000 } }).then((r) => setAwaiting(awaitingAnswer(r.data, node))).catch(() => setAwaiting([]));
  }, [canRead, claims, node]);

  return (
    <div data-testid="workbench">
      <Typography.Title level={4}>{t("workbench.welcome", { name: claims?.name ?? claims?.sub })}</Typography.Title>
      <Row gutter={16}>
        <Col span={8}>
          <Card title={t("workbench.myCustomers")} size="small">
            <Statistic value={mine?.total ?? 0} />
            <List
              size="small"
              dataSource={mine?.rows ?? []}
              renderItem={(c) => (
                <List.Item>
                  <Link to={`/customers/${c.id}`}>{c.name}</Link> <Tag>{enumLabel(t, "grade", c.grade)}</Tag>
                </List.Item>
              )}
            />
          </Card>
        </Col>
        <Col span={8}>
          <Card title={t("workbench.reminders")} size="small">
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("workbench.noReminders")} />
          </Card>
        </Col>
        <Col span={8}>
          <Card title={t("workbench.awaiting")} size="small" data-testid="awaiting">
            <List
              size="small"
              dataSource={awaiting}
              locale={{ emptyText: t("common.empty") }}
              renderItem={(d) => (
                <List.Item>
                  <Link to="/national">{d.customer.name}</Link> <Tag>{enumLabel(t, "grade", d.grade)}</Tag>
                </List.Item>
              )}
            />
          </Card>
        </Col>
      </Row>
      <Card title={t("workbench.recent")} size="small" style={{ marginTop: 16 }} data-testid="recent">
        <List
          size="small"
          dataSource={recent}
          locale={{ emptyText: t("common.empty") }}
          renderItem={(c) => (
            <List.Item extra={formatTime(c.updatedAt)}>
              <Link to={`/customers/${c.id}`}>{c.name}</Link> <Tag>{c.ownerNode}</Tag> <Tag>v{c.version}</Tag>
            </List.Item>
          )}
        />
      </Card>
    </div>
  );
}
