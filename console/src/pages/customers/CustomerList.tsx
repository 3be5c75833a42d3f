import { CheckCircleOutlined, CopyOutlined, DownloadOutlined, PlusOutlined, SettingOutlined, UploadOutlined } from "@ant-design/icons";
import { App, Button, Card, Checkbox, Form, Input, Modal, Popover, Select, Space, Table, Tag, Upload, type TableProps } from "antd";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useTmfList, formatTotal } from "../../api/useTmfList";
import { api, download } from "../../api/client";
import type { Customer } from "../../api/types";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { enumLabel, enumOptions, formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { canBulkVerify, type BulkResult } from "./f1";
import { fromSearch, toQuery, toSearch, type ListState } from "./query";

const CUSTOMER = "/tmf-api/customerManagement/v4/customer";
const COLUMNS_KEY = "kam.customers.columns";
const ALL_COLUMNS = ["customerCode", "name", "grade", "industry", "status", "mgmtLevel", "accountManager", "ownerNode", "recognitionStatus", "updatedAt"] as const;
const DEFAULT_COLUMNS = ["customerCode", "name", "grade", "industry", "status", "accountManager", "ownerNode", "updatedAt"];
const SORTABLE = new Set(["customerCode", "name", "grade", "industry", "status", "mgmtLevel", "accountManager", "ownerNode", "recognitionStatus", "updatedAt"]);

interface ImportResult {
  received: number;
  created: number;
  updated: number;
  rejected: number;
  errorCount: number;
  errors: { row: number; column: string | null; message: string; sheet?: string }[];
}

export default function CustomerList() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => fromSearch(params), [params]);
  const { rows, total, totalIsLowerBound, loading, reload } = useTmfList<Customer>(CUSTOMER, toQuery(state));
  const [imported, setImported] = useState<ImportResult | null>(null);
  const [columns, setColumns] = useState<string[]>(() => {
    try {
      return JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? "null") ?? DEFAULT_COLUMNS;
    } catch {
      return DEFAULT_COLUMNS;
    }
  });
  const [form] = Form.useForm();
  const [selected, setSelected] = useState<string[]>([]);
  const [bulk, setBulk] = useState<BulkResult | null>(null);
  const [verifying, setVerifying] = useState(false);

  const update = useCallback((next: Partial<ListState>) => setParams(toSearch({ ...state, ...next })), [state, setParams]);

  useEffect(() => {
    form.setFieldsValue({ q: state.q, ...state.filters, accountManager: state.filters.accountManager?.[0], ownerNode: state.filters.ownerNode?.[0], verification: state.filters.verification?.[0] });
  }, [state, form]);

  const label = (k: string) => (k === "updatedAt" ? t("common.updatedAt") : t(`customer.${k}`));
  const render: Record<string, (c: Customer) => React.ReactNode> = {
    name: (c) => <Link to={`/customers/${c.id}`}>{c.name}</Link>,
    grade: (c) => <Tag color={c.grade === "A" ? "gold" : c.grade === "B" ? "orange" : "default"}>{enumLabel(t, "grade", c.grade)}</Tag>,
    industry: (c) => enumLabel(t, "industry", c.industry),
    status: (c) => enumLabel(t, "status", c.status),
    mgmtLevel: (c) => enumLabel(t, "mgmtLevel", c.mgmtLevel),
    recognitionStatus: (c) => enumLabel(t, "recognitionStatus", c.recognitionStatus),
    updatedAt: (c) => formatTime(c.updatedAt),
    accountManager: (c) => c.accountManager ?? "—",
  };
  const tableColumns: TableProps<Customer>["columns"] = ALL_COLUMNS.filter((k) => columns.includes(k)).map((k) => ({
    key: k,
    dataIndex: k,
    title: label(k),
    sorter: SORTABLE.has(k),
    sortOrder: state.sort?.field === k ? (state.sort.desc ? "descend" : "ascend") : null,
    render: render[k] ? (_: unknown, c: Customer) => render[k]?.(c) : undefined,
  }));

  const onSearch = (v: Record<string, string | string[] | undefined>) => {
    const filters: Record<string, string[]> = {};
    for (const k of ["grade", "industry", "status"]) {
      const val = v[k];
      if (Array.isArray(val) && val.length) filters[k] = val;
    }
    for (const k of ["accountManager", "ownerNode", "verification"]) {
      const val = v[k];
      if (typeof val === "string" && val.trim()) filters[k] = [val.trim()];
    }
    update({ q: typeof v.q === "string" ? v.q : "", filters, page: 1 });
  };

  const exportAs = (format: "csv" | "xlsx") => {
    const { offset: _o, limit: _l, ...query } = toQuery(state);
    void _o;
    void _l;
    download("/api/v1/customer/exports", { ...query, format }, `customers.${format}`).catch((e: unknown) =>
      message.error(e instanceof Error ? e.message : String(e)),
    );
  };

  const importFile = async (file: File) => {
    const type = file.name.toLowerCase().endsWith(".xlsx")
      ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
      : "text/csv";
    try {
      const r = await api.post<ImportResult>("/api/v1/customer/imports", { raw: file, contentType: type });
      setImported(r.data);
      reload(); // after an import: the same page, new rows
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
    return false;
  };

  const claims = session?.claims;
  const bulkVerify = canBulkVerify(claims, nodeInfo()?.tier);
  const verifySelected = async () => {
    setVerifying(true);
    try {
      const r = await api.post<BulkResult>("/api/v1/customer/verifications/bulk", { body: { customerIds: selected, status: "verified" } });
      setBulk(r.data);
      setSelected([]);
      reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setVerifying(false);
    }
  };
  const names = new Map(rows.map((c) => [c.id, c.name]));
  return (
    <Card title={t("customer.list")} data-testid="customer-list">
      <Form form={form} layout="inline" onFinish={onSearch} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item name="q">
          <Input.Search placeholder={t("customer.searchPlaceholder")} allowClear style={{ width: 300 }} onSearch={() => form.submit()} data-testid="customer-search" />
        </Form.Item>
        <Form.Item name="grade">
          <Select mode="multiple" allowClear placeholder={t("customer.grade")} options={enumOptions(t, "grade")} style={{ minWidth: 120 }} />
        </Form.Item>
        <Form.Item name="industry">
          <Select mode="multiple" allowClear placeholder={t("customer.industry")} options={enumOptions(t, "industry")} style={{ minWidth: 140 }} />
        </Form.Item>
        <Form.Item name="status">
          <Select mode="multiple" allowClear placeholder={t("customer.status")} options={enumOptions(t, "status")} style={{ minWidth: 140 }} />
        </Form.Item>
        <Form.Item name="verification">
          <Select
            allowClear
            placeholder={t("f1.verification.title")}
            options={["unverified", "verified", "returned"].map((v) => ({ value: v, label: enumLabel(t, "verification", v) }))}
            style={{ minWidth: 130 }}
            data-testid="filter-verification"
          />
        </Form.Item>
        <Form.Item name="accountManager">
          <Input placeholder={t("customer.accountManager")} allowClear style={{ width: 130 }} />
        </Form.Item>
        <Form.Item name="ownerNode">
          <Input placeholder={t("customer.ownerNode")} allowClear style={{ width: 110 }} />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit">
            {t("common.search")}
          </Button>
          <Button
            onClick={() => {
              form.resetFields();
              setParams(new URLSearchParams());
            }}
          >
            {t("common.reset")}
          </Button>
        </Space>
      </Form>
      <Space style={{ marginBottom: 12 }} wrap>
        {hasPermission(claims, "customer:create") && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/customers/new")} data-testid="customer-create">
            {t("customer.create")}
          </Button>
        )}
        {hasPermission(claims, "customer:export") && (
          <>
            <Button icon={<DownloadOutlined />} onClick={() => exportAs("csv")}>
              {t("customer.exportCsv")}
            </Button>
            <Button icon={<DownloadOutlined />} onClick={() => exportAs("xlsx")}>
              {t("customer.exportXlsx")}
            </Button>
          </>
        )}
        {hasPermission(claims, "customer:import") && (
          <Upload accept=".csv,.xlsx" showUploadList={false} beforeUpload={importFile}>
            <Button icon={<UploadOutlined />}>{t("customer.import")}</Button>
          </Upload>
        )}
        <Button icon={<CopyOutlined />} onClick={() => navigate("/customers/duplicates")} data-testid="duplicates-link">
          {t("f1.dup.title")}
        </Button>
        {bulkVerify && (
          <Button icon={<CheckCircleOutlined />} disabled={!selected.length} loading={verifying} onClick={() => void verifySelected()} data-testid="bulk-verify">
            {t("f1.verification.bulk", { count: selected.length })}
          </Button>
        )}
        <Popover
          trigger="click"
          content={
            <Checkbox.Group
              value={columns}
              onChange={(v) => {
                setColumns(v);
                localStorage.setItem(COLUMNS_KEY, JSON.stringify(v));
              }}
              style={{ display: "flex", flexDirection: "column" }}
              options={ALL_COLUMNS.map((k) => ({ value: k, label: label(k) }))}
            />
          }
        >
          <Button icon={<SettingOutlined />}>{t("common.columns")}</Button>
        </Popover>
      </Space>
      <Table<Customer>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={rows}
        columns={tableColumns}
        data-testid="customer-table"
        rowSelection={bulkVerify ? { selectedRowKeys: selected, onChange: (keys) => setSelected(keys.map(String)), preserveSelectedRowKeys: true } : undefined}
        pagination={{
          current: state.page,
          pageSize: state.pageSize,
          total,
          showSizeChanger: true,
          pageSizeOptions: [10, 20, 50, 100],
          showTotal: (n) => t("common.total", { count: formatTotal(n, totalIsLowerBound) }),
        }}
        onChange={(p, _f, sorter) => {
          const s = Array.isArray(sorter) ? sorter[0] : sorter;
          const field = s?.order ? String(s.columnKey ?? s.field) : null;
          update({
            page: p.current ?? 1,
            pageSize: p.pageSize ?? state.pageSize,
            sort: field ? { field, desc: s?.order === "descend" } : null,
          });
        }}
      />
      <Modal open={bulk !== null} onCancel={() => setBulk(null)} footer={null} title={t("f1.verification.bulkTitle")} width={640}>
        {bulk && (
          <>
            <p data-testid="bulk-summary">{t("f1.verification.bulkDone", { ok: bulk.verified, failed: bulk.failed })}</p>
            {bulk.failed > 0 && (
              <Table
                size="small"
                rowKey="customerId"
                dataSource={bulk.items.filter((i) => !i.ok)}
                pagination={{ pageSize: 10 }}
                columns={[
                  { title: t("customer.name"), render: (_, i) => names.get(i.customerId) ?? i.customerId },
                  { title: t("customer.message"), dataIndex: "error" },
                ]}
              />
            )}
          </>
        )}
      </Modal>
      <Modal open={imported !== null} onCancel={() => setImported(null)} footer={null} title={t("customer.importErrors")} width={720}>
        {imported && (
          <>
            <p data-testid="import-summary">{t("customer.importDone", { ok: imported.created + imported.updated, failed: imported.rejected })}</p>
            <Table
              size="small"
              rowKey={(e) => `${e.sheet ?? ""}:${e.row}:${e.column ?? ""}:${e.message}`}
              dataSource={imported.errors}
              pagination={{ pageSize: 10 }}
              columns={[
                { title: t("customer.row"), dataIndex: "row", width: 80 },
                { title: t("customer.field"), dataIndex: "column", width: 160 },
                { title: t("customer.message"), dataIndex: "message" },
              ]}
            />
          </>
        )}
      </Modal>
    </Card>
  );
}
