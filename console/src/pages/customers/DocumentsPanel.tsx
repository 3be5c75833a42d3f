// The customer's documents in its 360 view (F4, issue 12): the documents linked to the customer with
// their versions; upload and a new version (service/DocumentUpload, shared with the documents screen),
// download, and a preview of PDF (a frame) and images (antd Image) read with the token into a blob URL.
// Over 100 MB is said before sending and on a 413; content not yet at this node shows the API's message.
import { DownloadOutlined, EyeOutlined, UploadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Image, Modal, Space, Table, Tag, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/errors";
import type { components } from "../../api/gen/service";
import { usePagedList } from "../../api/useTmfList";
import { currentSession } from "../../auth/session";
import { formatTime } from "../../components/labels";
import { formatBytes } from "../service/DocumentList";
import { NewDocumentModal, UploadVersionButton } from "../service/DocumentUpload";
import { contentNotice, previewKind, type PreviewKind } from "./c360";
import { ListPanel, PANEL_PAGE } from "./ListPanel";

type Doc = components["schemas"]["DocumentRead"];
type Version = components["schemas"]["DocumentVersionRead"];

const DOCS = "/api/v1/service/document";

/** The version's bytes read with the token; a refusal (503 not yet here, 410 expired, …) as the API's message. */
async function readContent(v: Version, download: boolean): Promise<Blob> {
  const session = currentSession();
  const url = download ? `${v.contentHref}${v.contentHref.includes("?") ? "&" : "?"}download=true` : v.contentHref;
  const resp = await fetch(url, { headers: session ? { Authorization: `Bearer ${session.token}` } : {} });
  if (!resp.ok) {
    const body = (await resp.json().catch(() => null)) as { message?: string } | null;
    const notice = contentNotice(resp.status, body);
    throw new ApiError(resp.status, { message: notice.message }, notice.message);
  }
  return resp.blob();
}

interface Preview {
  doc: Doc;
  version: Version;
  kind: PreviewKind;
  url: string | null;
  notice: { waiting: boolean; message: string } | null;
}

function PreviewModal({ preview, onClose }: { preview: Preview | null; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Modal
      open={preview !== null}
      onCancel={onClose}
      footer={null}
      width={900}
      destroyOnHidden
      title={preview ? `${preview.doc.title} · ${t("customer360.versionNo", { version: preview.version.number })} · ${preview.version.fileName}` : ""}
    >
      <div data-testid="c360-preview">
        {preview?.notice && (
          <Alert
            type={preview.notice.waiting ? "warning" : "error"}
            showIcon
            message={preview.notice.waiting ? t("customer360.notHere") : t("customer360.unavailable")}
            description={preview.notice.message}
            data-testid="c360-preview-notice"
          />
        )}
        {preview?.url && preview.kind === "pdf" && (
          <iframe src={preview.url} title={preview.version.fileName} style={{ width: "100%", height: "70vh", border: 0 }} data-testid="c360-preview-pdf" />
        )}
        {preview?.url && preview.kind === "text" && (
          <iframe src={preview.url} title={preview.version.fileName} style={{ width: "100%", height: "60vh", border: 0 }} data-testid="c360-preview-text" />
        )}
        {preview?.url && preview.kind === "image" && <Image src={preview.url} alt={preview.version.fileName} data-testid="c360-preview-image" />}
        {preview && !preview.notice && !preview.url && <Typography.Text type="secondary">{t("customer360.noPreview")}</Typography.Text>}
      </div>
    </Modal>
  );
}

export default function DocumentsPanel({
  customerId,
  customerName,
  canWrite,
  here,
}: {
  customerId: string;
  customerName: string;
  canWrite: boolean;
  here: string | undefined;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const list = usePagedList<Doc>(DOCS, { "relatedParty.id": customerId, sort: "-lastUpdate" }, PANEL_PAGE);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [creating, setCreating] = useState(false);

  // a blob URL lives as long as its preview
  useEffect(() => {
    const url = preview?.url;
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [preview?.url]);

  const current = (d: Doc) => d.versions?.find((v) => v.number === d.currentVersion) ?? null;

  async function openPreview(doc: Doc, version: Version) {
    const kind = previewKind(version.contentType);
    if (!kind) {
      setPreview({ doc, version, kind, url: null, notice: null });
      return;
    }
    try {
      const blob = await readContent(version, false);
      setPreview({ doc, version, kind, url: URL.createObjectURL(blob), notice: null });
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 0;
      setPreview({ doc, version, kind, url: null, notice: contentNotice(status, { message: e instanceof Error ? e.message : String(e) }) });
    }
  }

  async function download(version: Version) {
    try {
      const blob = await readContent(version, true);
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = version.fileName;
      a.click();
      URL.revokeObjectURL(a.href);
    } catch (e) {
      const waiting = e instanceof ApiError && e.status === 503;
      message[waiting ? "warning" : "error"](e instanceof Error ? e.message : String(e));
    }
  }

  const versionColumns = (doc: Doc) => [
    { title: t("customer360.versions"), render: (_: unknown, v: Version) => <Tag color={v.number === doc.currentVersion ? "blue" : "default"}>v{v.number}</Tag> },
    { title: t("customer360.fileName"), dataIndex: "fileName" },
    { title: t("customer360.size"), render: (_: unknown, v: Version) => formatBytes(v.size) },
    { title: t("customer360.uploadedBy"), dataIndex: "uploadedBy" },
    { title: t("customer360.uploadedAt"), render: (_: unknown, v: Version) => formatTime(v.uploadedAt) },
    {
      title: t("common.actions"),
      render: (_: unknown, v: Version) =>
        doc.isExpired ? null : (
          <Space size={4}>
            {previewKind(v.contentType) && (
              <Button size="small" type="link" onClick={() => void openPreview(doc, v)} data-testid={`c360-doc-preview-${doc.id}-${v.number}`}>
                {t("customer360.preview")}
              </Button>
            )}
            <Button size="small" type="link" onClick={() => void download(v)}>
              {t("customer360.download")}
            </Button>
          </Space>
        ),
    },
  ];

  return (
    <>
      <ListPanel<Doc>
        title={t("customer360.documents")}
        testId="c360-documents"
        list={list}
        extra={
          canWrite && (
            <Button size="small" icon={<UploadOutlined />} onClick={() => setCreating(true)} data-testid="c360-doc-new">
              {t("customer360.newDocument")}
            </Button>
          )
        }
        expandable={{
          expandedRowRender: (d) => <Table<Version> size="small" rowKey="number" pagination={false} dataSource={[...(d.versions ?? [])].reverse()} columns={versionColumns(d)} />,
          rowExpandable: (d) => (d.versions?.length ?? 0) > 0,
        }}
        columns={[
          { title: t("customer360.title"), dataIndex: "title" },
          { title: t("customer360.category"), render: (_, d) => t(`service.categories.${d.category ?? "OTHER"}`) },
          {
            title: t("customer360.versions"),
            render: (_, d) => {
              const v = current(d);
              return v ? (
                <span data-testid={`c360-doc-version-${d.id}`} data-version={v.number}>
                  v{v.number} · {v.fileName} · {formatBytes(v.size)}
                </span>
              ) : (
                <Typography.Text type="secondary">{t("customer360.noVersion")}</Typography.Text>
              );
            },
          },
          { title: t("common.owner"), dataIndex: "ownerNode" },
          { title: t("common.updatedAt"), render: (_, d) => (d.isExpired ? <Tag color="red">{t("customer360.expired")}</Tag> : formatTime(d.lastUpdate)) },
          {
            title: t("common.actions"),
            render: (_, d) => {
              const v = current(d);
              return (
                <Space size={4} wrap>
                  {v && !d.isExpired && previewKind(v.contentType) && (
                    <Button size="small" icon={<EyeOutlined />} onClick={() => void openPreview(d, v)} data-testid={`c360-doc-preview-${d.id}`}>
                      {t("customer360.preview")}
                    </Button>
                  )}
                  {v && !d.isExpired && (
                    <Button size="small" icon={<DownloadOutlined />} onClick={() => void download(v)} data-testid={`c360-doc-download-${d.id}`}>
                      {t("customer360.download")}
                    </Button>
                  )}
                  {canWrite && <UploadVersionButton doc={d} here={here} onUploaded={list.reload} testId={`c360-doc-upload-${d.id}`} />}
                </Space>
              );
            },
          },
        ]}
      />
      <PreviewModal preview={preview} onClose={() => setPreview(null)} />
      <NewDocumentModal open={creating} onClose={() => setCreating(false)} onCreated={list.reload} customer={{ id: customerId, name: customerName }} testPrefix="c360-doc" />
    </>
  );
}
