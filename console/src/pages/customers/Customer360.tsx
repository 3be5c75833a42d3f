import { EditOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Col, Descriptions, Empty, Result, Row, Space, Spin, Table, Tag, Tree, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { api } from "../../api/client";
import type { AccountManagerAssignment, Contact, Designation, Hierarchy, HistoryEntry } from "../../api/types";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { enumLabel, formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { changeLines, enumValue } from "./changes";
import { visiblePanels } from "./c360";
import CompetitorsPanel from "./CompetitorsPanel";
import ContactSchemePanel from "./ContactSchemePanel";
import DecisionMapPanel from "./DecisionMapPanel";
import DocumentsPanel from "./DocumentsPanel";
import NeedsPanel from "./NeedsPanel";
import SalesPanels from "./SalesPanels";
import TicketsPanel from "./TicketsPanel";
import { useCustomer } from "./useCustomer";
import VerificationPanel from "./VerificationPanel";

function useList<T>(fetcher: () => Promise<T>, deps: unknown[]): T | null {
  const [data, setData] = useState<T | null>(null);
  useEffect(() => {
    let live = true;
    fetcher()
      .then((d) => live && setData(d))
      .catch(() => live && setData(null));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return data;
}

export { changeLines } from "./changes";

export default function Customer360() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const session = useSession();
  const { id } = useParams();
  const { customer, error } = useCustomer(id);
  const cid = id ?? "";
  const contacts = useList(async () => (await api.get<Contact[]>("/tmf-api/party/v4/individual", { query: { "customer.id": cid, limit: 100 } })).data, [cid]);
  const hierarchy = useList(async () => (await api.get<Hierarchy>("/api/v1/customer/customers/{customer_id}/hierarchy", { path: { customer_id: cid } })).data, [cid]);
  const managers = useList(
    async () => (await api.get<AccountManagerAssignment[]>("/api/v1/customer/customers/{customer_id}/account-managers", { path: { customer_id: cid } })).data,
    [cid],
  );
  const history = useList(
    async () =>
      hasPermission(session?.claims, "customer.history:read")
        ? (await api.get<HistoryEntry[]>("/api/v1/customer/customers/{customer_id}/history", { path: { customer_id: cid }, query: { limit: 100 } })).data
        : [],
    [cid],
  );
  const designations = useList(
    async () => (await api.get<Designation[]>("/api/v1/customer/designations", { query: { limit: 1000 } })).data.filter((d) => d.customer.id === cid),
    [cid],
  );

  if (error) return <Result status="warning" title={error.message} />;
  if (!customer) return <Spin />;
  const here = nodeInfo()?.code;
  const replica = here !== undefined && customer.ownerNode !== here;
  const canEdit = hasPermission(session?.claims, "customer:update");
  // attached records (needs, competitors, relations) are written at the customer's owner only
  const canEditAttached = canEdit && !replica;

  const c = customer;
  const treeData = hierarchy
    ? (() => {
        const leaf = {
          key: hierarchy.customer.id,
          title: <b>{hierarchy.customer.name}</b>,
          children: hierarchy.branches.map((b) => ({ key: b.id, title: <Link to={`/customers/${b.id}`}>{b.name} ({b.ownerNode})</Link> })),
        };
        return [...hierarchy.ancestors].reduce(
          (child, a) => ({ key: a.id, title: <Link to={`/customers/${a.id}`}>{a.name} ({a.ownerNode})</Link>, children: [child] }),
          leaf as { key: string; title: React.ReactNode; children: unknown[] },
        );
      })()
    : null;

  // products and bills have no service yet; sales and service panels show what their APIs hold
  const future = ["products", "bills"] as const;
  const panels = new Set(visiblePanels(session?.claims));

  return (
    <Space direction="vertical" style={{ width: "100%" }} size="middle" data-testid="customer-360">
      <Card
        title={
          <Space>
            <span data-testid="customer-name">{c.name}</span>
            <Tag>{c.customerCode}</Tag>
            <Tag color="blue">{enumLabel(t, "grade", c.grade)}</Tag>
            <VerificationPanel customerId={c.id} claims={session?.claims} here={here} />
          </Space>
        }
        extra={
          canEdit && (
            <Button icon={<EditOutlined />} disabled={replica} onClick={() => navigate(`/customers/${c.id}/edit`)} data-testid="customer-edit">
              {t("common.edit")}
            </Button>
          )
        }
      >
        {replica && (
          <Alert type="info" showIcon style={{ marginBottom: 16 }} message={t("common.readOnlyReplica", { owner: c.ownerNode })} data-testid="replica-notice" />
        )}
        <Descriptions size="small" column={3} title={t("customer.profile")}>
          <Descriptions.Item label={t("customer.customerType")}>{enumLabel(t, "customerType", c.customerType)}</Descriptions.Item>
          <Descriptions.Item label={t("customer.industry")}>{enumLabel(t, "industry", c.industry)}</Descriptions.Item>
          <Descriptions.Item label={t("customer.status")}>{enumLabel(t, "status", c.status)}</Descriptions.Item>
          <Descriptions.Item label={t("customer.mgmtLevel")}>{enumLabel(t, "mgmtLevel", c.mgmtLevel)}</Descriptions.Item>
          <Descriptions.Item label={t("customer.recognitionStatus")}>{enumLabel(t, "recognitionStatus", c.recognitionStatus)}</Descriptions.Item>
          <Descriptions.Item label={t("customer.nature")}>{enumLabel(t, "nature", c.nature)}</Descriptions.Item>
          <Descriptions.Item label={t("customer.creditCode")}>{c.creditCode ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("customer.accountManager")}>{c.accountManager ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("customer.ownerNode")}>
            <span data-testid="owner-node">{c.ownerNode}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t("customer.address")}>{c.address ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("common.version")}>{c.version}</Descriptions.Item>
          <Descriptions.Item label={t("common.updatedAt")}>{formatTime(c.updatedAt)}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Row gutter={16}>
        <Col span={14}>
          <Card title={t("customer.contacts")} size="small">
            <Table<Contact>
              size="small"
              rowKey="id"
              pagination={false}
              dataSource={contacts ?? []}
              columns={[
                { title: t("common.name"), render: (_, x) => x.fullName ?? `${x.familyName ?? ""}${x.givenName ?? ""}` },
                { title: t("customer.title"), dataIndex: "title" },
                { title: t("customer.department"), dataIndex: "department" },
                { title: t("customer.decisionRole"), render: (_, x) => enumLabel(t, "decisionRole", x.decisionRole) },
                { title: t("customer.primary"), render: (_, x) => (x.isPrimary ? t("common.yes") : "") },
              ]}
            />
          </Card>
        </Col>
        <Col span={10}>
          <Card title={t("customer.hierarchy")} size="small">
            {treeData ? <Tree defaultExpandAll treeData={[treeData as never]} selectable={false} /> : <Empty />}
          </Card>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col span={12}>
          <Card title={t("customer.managers")} size="small">
            <Table<AccountManagerAssignment>
              size="small"
              rowKey="id"
              pagination={false}
              dataSource={managers ?? []}
              columns={[
                { title: t("customer.accountManager"), render: (_, m) => m.accountManagerName ?? m.accountManager ?? "—" },
                { title: t("customer.previous"), dataIndex: "previousAccountManager" },
                { title: t("customer.validFrom"), render: (_, m) => formatTime(m.validFor.startDateTime) },
                { title: t("customer.validTo"), render: (_, m) => formatTime(m.validFor.endDateTime) },
                { title: t("customer.assignedBy"), dataIndex: "assignedBy" },
              ]}
            />
          </Card>
        </Col>
        <Col span={12}>
          <Card title={t("customer.designation")} size="small">
            {designations && designations.length ? (
              designations.map((d) => (
                <Descriptions key={d.id} size="small" column={2}>
                  <Descriptions.Item label={t("national.grade")}>{enumLabel(t, "grade", d.grade)}</Descriptions.Item>
                  <Descriptions.Item label={t("common.status")}>{enumLabel(t, "designationStatus", d.status)}</Descriptions.Item>
                  <Descriptions.Item label={t("national.groupAccountManager")}>{d.groupAccountManagerName ?? d.groupAccountManager ?? "—"}</Descriptions.Item>
                  <Descriptions.Item label={t("national.responses")}>
                    {d.responses.map((r) => (
                      <Tag key={r.node}>
                        {r.node}: {enumLabel(t, "responseStatus", r.status)}
                      </Tag>
                    ))}
                  </Descriptions.Item>
                </Descriptions>
              ))
            ) : (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />
            )}
          </Card>
        </Col>
      </Row>
      <NeedsPanel customerId={c.id} canEdit={canEditAttached} canHistory={hasPermission(session?.claims, "customer.history:read")} />
      <Row gutter={16}>
        <Col span={12}>
          <DecisionMapPanel customerId={c.id} canEdit={canEditAttached} />
        </Col>
        <Col span={12}>
          <CompetitorsPanel customerId={c.id} canEdit={canEditAttached} />
        </Col>
      </Row>
      <SalesPanels customerId={c.id} claims={session?.claims} />
      {panels.has("tickets") && <TicketsPanel customerId={c.id} canCreate={hasPermission(session?.claims, "service.ticket:write")} />}
      {panels.has("contactScheme") && <ContactSchemePanel customerId={c.id} />}
      {panels.has("documents") && (
        <DocumentsPanel customerId={c.id} customerName={c.name} canWrite={hasPermission(session?.claims, "service.document:write")} here={here} />
      )}
      <Card title={t("customer.history")} size="small">
        <Table<HistoryEntry>
          size="small"
          rowKey="id"
          dataSource={history ?? []}
          pagination={{ pageSize: 10 }}
          columns={[
            { title: t("customer.when"), width: 150, render: (_, h) => formatTime(h.at) },
            { title: t("customer.who"), dataIndex: "actor", width: 120 },
            { title: t("customer.action"), width: 120, render: (_, h) => enumLabel(t, "action", h.action) },
            {
              title: t("customer.change"),
              render: (_, h) => (
                <Typography.Text style={{ whiteSpace: "pre-line" }}>{changeLines(h.changes, (f) => t(`customer.${f}`, { defaultValue: f }), enumValue(t)).join("\n") || h.note || ""}</Typography.Text>
              ),
            },
          ]}
        />
      </Card>
      <Row gutter={16}>
        {future.map((k) => (
          <Col flex="1 1 0" key={k} style={{ minWidth: 160 }}>
            <Card title={t(`customer.${k}`)} size="small">
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("common.futureSource", { source: t(`customer.${k}`) })} />
            </Card>
          </Col>
        ))}
      </Row>
    </Space>
  );
}
