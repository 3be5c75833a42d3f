// The documents screen (F4, issue 12): every document in scope by category and title, opened with the
// token; upload a new document linked to a customer (and an opportunity, contract or ticket) and a new
// version of one, with the 360 view's upload pieces (DocumentUpload).
import { UploadOutlined } from "@ant-design/icons";
import { App, Button, Card, Input, Select, Space, Table, Tag } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { components } from "../../api/gen/service";
import { currentSession, hasPermission } from "../../auth/session";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { CATEGORIES } from "./logic";
import { NewDocumentModal, UploadVersionButton } from "./DocumentUpload";
import { tablePagination, usePagedList as useList } from "../../api/useTmfList";

type Doc = components["schemas"]["DocumentRead"];

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export default function DocumentList() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [category, setCategory] = useState<string | undefined>();
  const [title, setTitle] = useState("");
  const list = useList<Doc>("/api/v1/service/document", { category, title: title || undefined, sort: "-lastUpdate" });
  const [creating, setCreating] = useState(false);
  const here = nodeInfo()?.code;
  const canWrite = hasPermission(currentSession()?.claims, "service.document:write");

  // the content with the bearer token, opened in a new tab (PDF and images preview inline)
  const open = async (href: string) => {
    const session = currentSession();
    const win = window.open("", "_blank");
    try {
      const resp = await fetch(href, { headers: session ? { Authorization: `Bearer ${session.token}` } : {} });
      if (!resp.ok) {
        const body = (await resp.json().catch(() => null)) as { message?: string } | null;
        throw new Error(body?.message ?? String(resp.status));
      }
      const url = URL.createObjectURL(await resp.blob());
      if (win) win.location.href = url;
    } catch (e) {
      win?.close();
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <Card
      title={t("service.documents")}
      data-testid="document-list"
      extra={
        canWrite && (
          <Button type="primary" icon={<UploadOutlined />} onClick={() => setCreating(true)} data-testid="doc-new">
            {t("customer360.newDocument")}
          </Button>
        )
      }
    >
      <Space style={{ marginBottom: 16 }} wrap>
        <Input.Search placeholder={t("service.title")} allowClear onSearch={(v) => setTitle(v.trim())} style={{ width: 260 }} />
        <Select
          allowClear
          placeholder={t("service.category")}
          style={{ minWidth: 150 }}
          value={category}
          onChange={(v: string | undefined) => setCategory(v)}
          options={CATEGORIES.map((c) => ({ value: c, label: t(`service.categories.${c}`) }))}
        />
      </Space>
      <Table<Doc>
        rowKey="id"
        size="middle"
        loading={list.loading}
        dataSource={list.rows}
        data-testid="document-table"
        pagination={tablePagination(list, t)}
        columns={[
          { title: t("service.title"), dataIndex: "title" },
          { title: t("service.category"), render: (_, d) => t(`service.categories.${d.category ?? "OTHER"}`) },
          { title: t("service.customer"), render: (_, d) => d.relatedParty?.[0]?.name ?? "—" },
          { title: t("service.relatedEntity"), render: (_, d) => (d.relatedEntity ? `${d.relatedEntity.type} ${String(d.relatedEntity.id).slice(0, 8)}` : "—") },
          {
            title: t("service.currentVersion"),
            render: (_, d) => {
              const v = d.versions?.find((x) => x.number === d.currentVersion);
              return v ? `v${v.number} · ${v.fileName} · ${formatBytes(v.size)}` : "—";
            },
          },
          { title: t("service.expiresOn"), render: (_, d) => (d.isExpired ? <Tag color="red">{t("service.expired")}</Tag> : (d.expiresOn ?? "—")) },
          { title: t("common.owner"), dataIndex: "ownerNode" },
          { title: t("common.updatedAt"), render: (_, d) => formatTime(d.lastUpdate) },
          {
            title: t("common.actions"),
            render: (_, d) => {
              const v = d.versions?.find((x) => x.number === d.currentVersion);
              return (
                <Space size={4} wrap>
                  {v && !d.isExpired && (
                    <Button size="small" onClick={() => void open(v.contentHref)}>
                      {t("service.open")}
                    </Button>
                  )}
                  {canWrite && <UploadVersionButton doc={d} here={here} onUploaded={list.reload} testId={`doc-upload-${d.id}`} />}
                </Space>
              );
            },
          },
        ]}
      />
      <NewDocumentModal open={creating} onClose={() => setCreating(false)} onCreated={list.reload} testPrefix="doc" />
    </Card>
  );
}
