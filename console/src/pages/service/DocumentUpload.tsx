// Uploading documents (F4, issue 12), one piece for the 360 view's DocumentsPanel and the documents
// screen: a new document (metadata, then the file streamed as the raw body of …/content; the empty
// document taken back when the file is refused, so nothing half-made stays listed) and a new version of
// one. Over 100 MB is said before sending and on a 413. The 360 view links the document to its customer;
// the documents screen picks the customer and, optionally, the opportunity, contract or ticket.
import { UploadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Form, Input, Modal, Select, Upload } from "antd";
import type { UploadFile } from "antd";
import type { TFunction } from "i18next";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import type { components } from "../../api/gen/service";
import { checkUpload, uploadContentType, uploadProblem, type UploadProblem } from "../customers/c360";
import { CustomerPicker } from "./CustomerPicker";
import { CATEGORIES } from "./logic";

type Doc = components["schemas"]["DocumentRead"];
type RelatedType = components["schemas"]["RelatedEntity"]["type"];

const DOCS = "/api/v1/service/document";
const CONTENT = "/api/v1/service/document/{document_id}/content";
export const RELATED_TYPES: RelatedType[] = ["opportunity", "contract", "troubleTicket"];

export function problemText(t: TFunction, p: UploadProblem): string {
  if (p.kind === "tooLarge") return t("customer360.tooLarge");
  if (p.kind === "badType") return t("customer360.badType", { type: p.type || "?" });
  return p.text;
}

function isProblem(e: unknown): e is UploadProblem {
  return typeof e === "object" && e !== null && "kind" in e;
}

/** Send one file as the next version of `docId` (the raw body, its media type as Content-Type). */
async function sendFile(docId: string, file: File): Promise<Doc> {
  const problem = checkUpload(file);
  if (problem) throw problem;
  const contentType = uploadContentType(file) ?? "application/octet-stream";
  return (await api.post<Doc>(CONTENT, { path: { document_id: docId }, query: { fileName: file.name }, raw: file, contentType })).data;
}

/** "Upload new version" of one document: only at its owner node (the button says where otherwise). */
export function UploadVersionButton({ doc, here, onUploaded, testId }: { doc: Doc; here: string | undefined; onUploaded: () => void; testId: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const owner = doc.ownerNode === here;

  async function upload(file: File) {
    setBusy(true);
    try {
      const d = await sendFile(doc.id, file);
      message.success(t("customer360.uploaded", { version: d.currentVersion ?? "" }));
      onUploaded();
    } catch (e) {
      message.error(problemText(t, isProblem(e) ? e : uploadProblem(e)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <span title={owner ? undefined : t("customer360.ownerOnly", { owner: doc.ownerNode })} data-testid={testId}>
      <Upload
        showUploadList={false}
        disabled={!owner || busy}
        beforeUpload={(file) => {
          void upload(file);
          return false;
        }}
      >
        <Button size="small" icon={<UploadOutlined />} loading={busy} disabled={!owner}>
          {t("customer360.uploadVersion")}
        </Button>
      </Upload>
    </span>
  );
}

interface NewDoc {
  title: string;
  category: string;
  description?: string;
  customerId?: string;
  relatedType?: RelatedType;
  relatedId?: string;
  file?: UploadFile[];
}

/** The "upload document" dialog. With `customer` the document is that customer's (the 360 view); without,
 *  the dialog picks the customer and what else the document belongs to. `testPrefix` names its parts. */
export function NewDocumentModal({
  open,
  onClose,
  onCreated,
  customer,
  testPrefix,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: () => void;
  customer?: { id: string; name: string };
  testPrefix: string;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [form] = Form.useForm<NewDoc>();
  const relatedType = Form.useWatch("relatedType", form);

  async function create(v: NewDoc) {
    const file = v.file?.[0]?.originFileObj;
    const customerId = customer?.id ?? v.customerId;
    if (!file || !customerId) return;
    const problem = checkUpload(file);
    if (problem) {
      form.setFields([{ name: "file", errors: [problemText(t, problem)] }]);
      return;
    }
    setBusy(true);
    setFormError(null);
    let created: Doc;
    try {
      const relatedEntity = v.relatedType && v.relatedId?.trim() ? { type: v.relatedType, id: v.relatedId.trim() } : undefined;
      created = (
        await api.post<Doc>(DOCS, {
          body: {
            title: v.title,
            category: v.category,
            description: v.description ?? "",
            relatedParty: [{ id: customerId, role: "customer", ...(customer ? { name: customer.name } : {}) }],
            ...(relatedEntity ? { relatedEntity } : {}),
          },
        })
      ).data;
    } catch (e) {
      setFormError(applyFieldErrors(form, e, ["title", "category", "description"]));
      setBusy(false);
      return;
    }
    try {
      const d = await sendFile(created.id, file);
      message.success(t("customer360.uploaded", { version: d.currentVersion ?? "" }));
      form.resetFields();
      onClose();
      onCreated();
    } catch (e) {
      // the file was refused: take the empty document back, so nothing half-made is left listed
      await api.del("/api/v1/service/document/{document_id}", { path: { document_id: created.id } }).catch(() => undefined);
      form.setFields([{ name: "file", errors: [problemText(t, isProblem(e) ? e : uploadProblem(e))] }]);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open={open}
      title={t("customer360.newDocument")}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t("customer360.upload")}
      confirmLoading={busy}
      destroyOnHidden
      okButtonProps={{ "data-testid": `${testPrefix}-submit` } as Record<`data-${string}`, string>}
    >
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} />}
      <Form<NewDoc> form={form} layout="vertical" onFinish={(v) => void create(v)} initialValues={{ category: "OTHER" }} preserve={false}>
        <Form.Item name="title" label={t("customer360.title")} rules={[{ required: true, message: t("customer360.title") }]}>
          <Input maxLength={200} data-testid={`${testPrefix}-title`} />
        </Form.Item>
        <Form.Item name="category" label={t("customer360.category")}>
          <Select options={CATEGORIES.map((c) => ({ value: c, label: t(`service.categories.${c}`) }))} />
        </Form.Item>
        {!customer && (
          <>
            <Form.Item name="customerId" label={t("service.customer")} rules={[{ required: true, message: t("service.customer") }]}>
              <CustomerPicker testId={`${testPrefix}-customer`} />
            </Form.Item>
            <Form.Item name="relatedType" label={t("service.relatedEntity")}>
              <Select
                allowClear
                data-testid={`${testPrefix}-related-type`}
                options={RELATED_TYPES.map((r) => ({ value: r, label: t(`service.relatedTypes.${r}`) }))}
              />
            </Form.Item>
            {relatedType && (
              <Form.Item name="relatedId" label={t("service.relatedId")} rules={[{ required: true, whitespace: true, message: t("service.relatedId") }]}>
                <Input maxLength={64} data-testid={`${testPrefix}-related-id`} />
              </Form.Item>
            )}
          </>
        )}
        <Form.Item name="description" label={t("customer360.description")}>
          <Input.TextArea rows={2} maxLength={4000} />
        </Form.Item>
        <Form.Item
          name="file"
          label={t("customer360.file")}
          valuePropName="fileList"
          getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList.slice(-1)}
          rules={[{ required: true, message: t("customer360.fileRequired") }]}
        >
          <Upload beforeUpload={() => false} maxCount={1} data-testid={`${testPrefix}-file`}>
            <Button icon={<UploadOutlined />}>{t("customer360.chooseFile")}</Button>
          </Upload>
        </Form.Item>
      </Form>
    </Modal>
  );
}
