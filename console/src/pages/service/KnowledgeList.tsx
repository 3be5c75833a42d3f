import { PlusOutlined } from "@ant-design/icons";
import { Button, Card, Form, Input, List, Select, Space, Table, Tabs, Tag, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useTmfList, formatTotal } from "../../api/useTmfList";
import { api } from "../../api/client";
import type { components } from "../../api/gen/service";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import Highlight from "./Highlight";
import { ITEM_KINDS, ITEM_STATUSES, type KnowledgeItem } from "./logic";

type Contribution = components["schemas"]["ContributionRead"];
export const ITEMS = "/api/v1/service/knowledge/item";
const PAGE = 10;
// the service ranks a search within its first 1000 matches (RANK_WINDOW of kam_service.knowledge.repository):
// a search pages that far, its count says how many match in all
const RANK_WINDOW = 1000;

export default function KnowledgeList() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const kind = params.get("kind") ?? undefined;
  const status = params.get("status") ?? undefined;
  const page = Math.max(1, Number(params.get("page")) || 1);
  const { rows, total, totalIsLowerBound, loading } = useTmfList<KnowledgeItem>(ITEMS, { q: q || undefined, kind, status, offset: (page - 1) * PAGE, limit: PAGE, sort: q ? undefined : "-lastUpdate" });
  const [contributions, setContributions] = useState<Contribution[]>([]);
  const local = nodeInfo()?.tier === "local";
  const canWrite = hasPermission(session?.claims, "service.knowledge:write");

  useEffect(() => {
    if (!local) return;
    api
      .get<Contribution[]>("/api/v1/service/knowledge/contribution", { query: { limit: 50, sort: "-lastUpdate" } })
      .then((r) => setContributions(r.data))
      .catch(() => setContributions([]));
  }, [local]);

  const set = (next: Record<string, string | undefined>) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v) p.set(k, v);
      else p.delete(k);
    }
    if (!("page" in next)) p.delete("page");
    setParams(p);
  };

  const items = (
    <>
      <Form layout="inline" style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item>
          <Input.Search
            defaultValue={q}
            key={q}
            placeholder={t("service.kSearch")}
            allowClear
            enterButton={t("common.search")}
            style={{ width: 420 }}
            onSearch={(v) => set({ q: v.trim() || undefined })}
            data-testid="knowledge-search"
          />
        </Form.Item>
        <Form.Item>
          <Select
            allowClear
            value={kind}
            placeholder={t("service.kind")}
            style={{ minWidth: 130 }}
            options={ITEM_KINDS.map((k) => ({ value: k, label: t(`service.kindNames.${k}`) }))}
            onChange={(v: string | undefined) => set({ kind: v })}
          />
        </Form.Item>
        <Form.Item>
          <Select
            allowClear
            value={status}
            placeholder={t("service.status")}
            style={{ minWidth: 110 }}
            options={ITEM_STATUSES.map((k) => ({ value: k, label: t(`service.itemStatuses.${k}`) }))}
            onChange={(v: string | undefined) => set({ status: v })}
          />
        </Form.Item>
      </Form>
      <List<KnowledgeItem>
        loading={loading}
        dataSource={rows}
        data-testid="knowledge-results"
        pagination={{ current: page, pageSize: PAGE, total: q ? Math.min(total, RANK_WINDOW) : total, onChange: (p) => set({ page: String(p) }), showTotal: () => t("common.total", { count: formatTotal(total, totalIsLowerBound) }) }}
        renderItem={(it) => (
          <List.Item key={it.id} data-testid="knowledge-hit">
            <List.Item.Meta
              title={
                <Space wrap>
                  <Link to={`/service/knowledge/${it.id}`}>{it.highlight ? <Highlight html={it.highlight.title} /> : it.title}</Link>
                  <Tag color="blue">{t(`service.kindNames.${it.kind ?? ""}`, { defaultValue: it.kind ?? "" })}</Tag>
                  <Tag>{t(`service.itemStatuses.${it.status ?? ""}`, { defaultValue: it.status ?? "" })}</Tag>
                  {(it.tags ?? []).map((g) => (
                    <Tag key={g} color="geekblue">
                      {g}
                    </Tag>
                  ))}
                </Space>
              }
              description={
                <Space direction="vertical" size={2}>
                  <Typography.Text type="secondary">{it.highlight ? <Highlight html={it.highlight.body} /> : it.summary || (it.body ?? "").slice(0, 120)}</Typography.Text>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {it.ownerNode} · {it.author} · r{it.revision} · {formatTime(it.publishedAt ?? it.lastUpdate)}
                    {it.rank !== null && it.rank !== undefined ? ` · ${t("service.rank")} ${it.rank}` : ""}
                  </Typography.Text>
                </Space>
              }
            />
          </List.Item>
        )}
      />
    </>
  );

  return (
    <Card
      title={t("service.knowledge")}
      data-testid="knowledge-list"
      extra={
        canWrite && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/service/knowledge/new")} data-testid="knowledge-create">
            {local ? t("service.contribute") : t("service.newItem")}
          </Button>
        )
      }
    >
      {local ? (
        <Tabs
          items={[
            { key: "items", label: t("service.knowledge"), children: items },
            {
              key: "contributions",
              label: t("service.contributions"),
              children: (
                <Table<Contribution>
                  rowKey="id"
                  size="small"
                  dataSource={contributions}
                  data-testid="contribution-table"
                  columns={[
                    { title: t("service.title"), dataIndex: "title" },
                    { title: t("service.kind"), render: (_, c) => t(`service.kindNames.${c.kind ?? ""}`) },
                    { title: t("service.reviewingNode"), dataIndex: "reviewingNode" },
                    { title: t("service.author"), dataIndex: "author" },
                    {
                      title: t("service.outcome"),
                      render: (_, c) =>
                        c.outcome ? (
                          <Space>
                            <Tag>{t(`service.itemStatuses.${c.outcome.status}`)}</Tag>
                            {c.outcome.statusReason}
                          </Space>
                        ) : (
                          "—"
                        ),
                    },
                    { title: t("common.updatedAt"), render: (_, c) => formatTime(c.lastUpdate) },
                  ]}
                />
              ),
            },
          ]}
        />
      ) : (
        items
      )}
    </Card>
  );
}
