// The catalogue browser (产品目录, TMF620): product lines as a tree (sub-lines by parentId), the selected
// line's offerings, the product specifications, and an offering's detail — its price table, where it is
// sellable, and at a province the province's own availability item with a toggle (the API refuses it at
// the group and local networks). At the group and a province (the authoring nodes) product lines,
// specifications, offerings and prices are created and edited here (CatalogForms), and moved along their
// lifecycle at their author node; a local network sees no authoring button (the API refuses it there).
import { App, Button, Card, Col, DatePicker, Descriptions, Empty, Form, Input, Modal, Row, Select, Space, Spin, Switch, Table, Tag, Tree, Typography, Result, type TableProps } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api } from "../../api/client";
import { ApiError, applyFieldErrors } from "../../api/errors";
import { tablePagination, usePagedList } from "../../api/useTmfList";
import { useSession } from "../../auth/useSession";
import { nodeInfo } from "../../env";
import { CatalogItemForm, LifecycleButtons } from "./CatalogForms";
import { canAuthorAvailability, canAuthorCatalog, canEditCatalogItem, categoryTree, formatValidFor, offeringField, ownAvailability, todayUtc, type Availability, type Category, type Offering, type Price, type Specification } from "./deals";
import { formatMoney } from "./logic";

const TMF = "/tmf-api/productCatalogManagement/v4";
export const CATEGORIES = `${TMF}/category` as const;
export const OFFERINGS = `${TMF}/productOffering` as const;
export const OFFERING = `${TMF}/productOffering/{item_id}` as const;
export const PRICES = `${TMF}/productOfferingPrice` as const;
const SPECIFICATIONS = `${TMF}/productSpecification` as const;
const SPECIFICATION = `${TMF}/productSpecification/{item_id}` as const;
export const SELLABLE = "/api/v1/sales/sellableOffering" as const;
const AVAILABILITY = "/api/v1/sales/offeringAvailability" as const;
const AVAILABILITY_ITEM = "/api/v1/sales/offeringAvailability/{item_id}" as const;
const SUBTREE = "/api/v1/org/nodes/{code}/subtree" as const;

export function LifecycleTag({ status }: { status?: string }) {
  const { t } = useTranslation();
  const color = status === "active" ? "green" : status === "retired" ? "default" : "gold";
  return <Tag color={color}>{t(`salesDeals.lifecycle.${status ?? ""}`, { defaultValue: status ?? "—" })}</Tag>;
}

export default function Catalog() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const selected = params.get("line") ?? "";
  const [categories, setCategories] = useState<Category[] | null>(null);
  const [reloads, setReloads] = useState(0);
  const [editing, setEditing] = useState<Category | "new" | null>(null);
  const { message } = App.useApp();
  const session = useSession();
  const here = nodeInfo();
  const author = canAuthorCatalog(here?.tier, session?.claims);
  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<Category[]>(CATEGORIES, { query: { limit: 1000, fields: "id,name,parentId,lifecycleStatus,ownerNode" }, signal: ctrl.signal })
      .then((r) => setCategories(r.data))
      .catch((e: unknown) => {
        if (ctrl.signal.aborted) return;
        setCategories([]);
        message.error(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [message, reloads]);
  const tree = useMemo(() => categoryTree(categories ?? []), [categories]);
  const line = categories?.find((c) => c.id === selected);
  return (
    <Row gutter={16} data-testid="catalog-page">
      <Col span={6}>
        <Card
          title={t("salesDeals.productLines")}
          size="small"
          extra={
            author && (
              <Button size="small" onClick={() => setEditing("new")} data-testid="new-line">
                {t("salesDeals.newLine")}
              </Button>
            )
          }
        >
          {categories === null ? (
            <Spin />
          ) : (
            <Tree
              treeData={tree}
              defaultExpandAll
              selectedKeys={selected ? [selected] : []}
              onSelect={(keys) => setParams(keys[0] ? { line: String(keys[0]) } : {})}
              data-testid="category-tree"
            />
          )}
          {line && (
            <div style={{ marginTop: 12 }} data-testid="line-detail">
              <Space wrap size="small">
                <LifecycleTag status={line.lifecycleStatus} />
                <Tag>{line.ownerNode}</Tag>
                {canEditCatalogItem(line, here?.tier, here?.code, session?.claims) && (
                  <Button size="small" onClick={() => setEditing(line)} data-testid="edit-line">
                    {t("salesDeals.edit")}
                  </Button>
                )}
                <LifecycleButtons kind="category" item={line} size="small" onMoved={() => setReloads((n) => n + 1)} />
              </Space>
            </div>
          )}
        </Card>
      </Col>
      <Col span={18}>
        <Space orientation="vertical" style={{ width: "100%" }}>
          <Card title={line ? `${t("salesDeals.offerings")} · ${line.name ?? ""}` : t("salesDeals.offerings")} size="small">
            {selected ? <OfferingTable category={selected} /> : <Empty description={t("salesDeals.selectLine")} />}
          </Card>
          <SpecificationTable />
        </Space>
      </Col>
      {editing && (
        <CatalogItemForm<Category>
          kind="category"
          item={editing === "new" ? undefined : editing}
          categories={categories ?? []}
          onClose={(saved) => {
            setEditing(null);
            if (!saved) return;
            setReloads((n) => n + 1);
            if (editing === "new") setParams({ line: saved.id });
          }}
        />
      )}
    </Row>
  );
}

function OfferingTable({ category }: { category: string }) {
  const { t } = useTranslation();
  const session = useSession();
  const [creating, setCreating] = useState(false);
  const list = usePagedList<Offering>(OFFERINGS, { "category.id": category, sort: "name" });
  const columns: TableProps<Offering>["columns"] = [
    { key: "name", title: t("salesDeals.name"), render: (_, r) => <Link to={`/sales/catalog/${r.id}`}>{r.name}</Link> },
    { key: "lifecycleStatus", title: t("salesDeals.lifecycleStatus"), render: (_, r) => <LifecycleTag status={r.lifecycleStatus} /> },
    { key: "validFor", title: t("salesDeals.validFor"), render: (_, r) => formatValidFor(r.validFor) },
    { key: "ownerNode", title: t("salesDeals.ownerNode"), render: (_, r) => <Tag>{r.ownerNode}</Tag> },
    { key: "bundle", title: t("salesDeals.bundle"), render: (_, r) => (r.isBundle ? <Tag color="purple">{t("salesDeals.bundle")}</Tag> : "") },
  ];
  return (
    <>
      {canAuthorCatalog(nodeInfo()?.tier, session?.claims) && (
        <Button type="primary" onClick={() => setCreating(true)} style={{ marginBottom: 12 }} data-testid="new-offering">
          {t("salesDeals.newOffering")}
        </Button>
      )}
      <Table<Offering> rowKey="id" size="small" loading={list.loading} dataSource={list.rows} columns={columns} pagination={tablePagination(list, t)} data-testid="offering-table" />
      {creating && (
        <OfferingCreate
          category={category}
          onClose={(created) => {
            setCreating(false);
            if (created) list.reload();
          }}
        />
      )}
    </>
  );
}

/** The product specifications this node sees (authored here or above), with their authoring actions. */
function SpecificationTable() {
  const { t } = useTranslation();
  const session = useSession();
  const here = nodeInfo();
  const [editing, setEditing] = useState<Specification | "new" | null>(null);
  const list = usePagedList<Specification>(SPECIFICATIONS, { sort: "name" }, 10);
  const columns: TableProps<Specification>["columns"] = [
    { key: "name", title: t("salesDeals.name"), dataIndex: "name" },
    { key: "brand", title: t("salesDeals.brand"), render: (_, r) => r.brand ?? "—" },
    { key: "productNumber", title: t("salesDeals.productNumber"), render: (_, r) => r.productNumber ?? "—" },
    { key: "lifecycleStatus", title: t("salesDeals.lifecycleStatus"), render: (_, r) => <LifecycleTag status={r.lifecycleStatus} /> },
    { key: "validFor", title: t("salesDeals.validFor"), render: (_, r) => formatValidFor(r.validFor) },
    { key: "ownerNode", title: t("salesDeals.ownerNode"), render: (_, r) => <Tag>{r.ownerNode}</Tag> },
    {
      key: "actions",
      title: "",
      render: (_, r) => (
        <Space size="small">
          {canEditCatalogItem(r, here?.tier, here?.code, session?.claims) && (
            <Button size="small" onClick={() => setEditing(r)} data-testid="edit-specification">
              {t("salesDeals.edit")}
            </Button>
          )}
          <LifecycleButtons kind="productSpecification" item={r} size="small" onMoved={list.reload} />
        </Space>
      ),
    },
  ];
  return (
    <Card
      title={t("salesDeals.specifications")}
      size="small"
      extra={
        canAuthorCatalog(here?.tier, session?.claims) && (
          <Button size="small" onClick={() => setEditing("new")} data-testid="new-specification">
            {t("salesDeals.newSpecification")}
          </Button>
        )
      }
    >
      <Table<Specification> rowKey="id" size="small" loading={list.loading} dataSource={list.rows} columns={columns} pagination={tablePagination(list, t)} data-testid="specification-table" />
      {editing && (
        <CatalogItemForm<Specification>
          kind="productSpecification"
          item={editing === "new" ? undefined : editing}
          onClose={(saved) => {
            setEditing(null);
            if (saved) list.reload();
          }}
        />
      )}
    </Card>
  );
}

interface CreateValues {
  name: string;
  description?: string;
  category: string[];
  productSpecification?: string;
  productOfferingPrice?: string[];
  lifecycleStatus: string;
  validFor: Dayjs;
  availableByDefault: boolean;
}
const CREATE_FIELDS = ["name", "description", "category", "productSpecification", "productOfferingPrice", "lifecycleStatus", "validFor", "availableByDefault"];

/** A new offering at the group or a province (a local network authors nothing): its line, specification
 * and prices picked from what this node may refer to; a 422 is shown at the field it names. */
function OfferingCreate({ category, onClose }: { category: string; onClose: (created: boolean) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<CreateValues>();
  const [busy, setBusy] = useState(false);
  const [options, setOptions] = useState<{ categories: Category[]; specs: { id: string; name?: string }[]; prices: Price[] }>({ categories: [], specs: [], prices: [] });
  useEffect(() => {
    const ctrl = new AbortController();
    const active = { lifecycleStatus: "inDesign,active", limit: 1000 };
    Promise.all([
      api.get<Category[]>(CATEGORIES, { query: { ...active, fields: "id,name" }, signal: ctrl.signal }),
      api.get<{ id: string; name?: string }[]>(SPECIFICATIONS, { query: { ...active, fields: "id,name" }, signal: ctrl.signal }),
      api.get<Price[]>(PRICES, { query: { ...active, fields: "id,name,priceType" }, signal: ctrl.signal }),
    ])
      .then(([c, sp, p]) => setOptions({ categories: c.data, specs: sp.data, prices: p.data }))
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [message]);

  const submit = async (v: CreateValues) => {
    setBusy(true);
    try {
      await api.post(OFFERINGS, {
        body: {
          name: v.name,
          description: v.description || undefined,
          category: v.category.map((id) => ({ id })),
          productSpecification: v.productSpecification ? { id: v.productSpecification } : undefined,
          productOfferingPrice: (v.productOfferingPrice ?? []).map((id) => ({ id })),
          lifecycleStatus: v.lifecycleStatus,
          validFor: { startDateTime: v.validFor.format("YYYY-MM-DD") },
          availableByDefault: v.availableByDefault,
        },
      });
      message.success(t("salesDeals.created"));
      onClose(true);
    } catch (e) {
      const left = applyFieldErrors(form, e, CREATE_FIELDS, offeringField);
      if (left) message.error(left);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal open title={t("salesDeals.newOffering")} onCancel={() => onClose(false)} onOk={() => form.submit()} confirmLoading={busy} width={640}>
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={{ category: [category], lifecycleStatus: "inDesign", validFor: dayjs(todayUtc()), availableByDefault: true }} data-testid="offering-form">
        <Form.Item name="name" label={t("salesDeals.name")} rules={[{ required: true, message: t("login.required", { field: t("salesDeals.name") }) }]}>
          <Input maxLength={200} data-testid="offering-name" />
        </Form.Item>
        <Form.Item name="category" label={t("salesDeals.productLines")} rules={[{ required: true }]}>
          <Select mode="multiple" optionFilterProp="label" options={options.categories.map((c) => ({ value: c.id, label: c.name ?? c.id }))} />
        </Form.Item>
        <Form.Item name="productSpecification" label={t("salesDeals.specification")}>
          <Select allowClear showSearch optionFilterProp="label" options={options.specs.map((x) => ({ value: x.id, label: x.name ?? x.id }))} />
        </Form.Item>
        <Form.Item name="productOfferingPrice" label={t("salesDeals.prices")}>
          <Select mode="multiple" optionFilterProp="label" options={options.prices.map((p) => ({ value: p.id, label: `${p.name ?? p.id} · ${t(`salesDeals.priceTypes.${p.priceType ?? ""}`, { defaultValue: p.priceType ?? "" })}` }))} />
        </Form.Item>
        <Row gutter={16}>
          <Col span={8}>
            <Form.Item name="lifecycleStatus" label={t("salesDeals.lifecycleStatus")}>
              <Select options={["inDesign", "active"].map((x) => ({ value: x, label: t(`salesDeals.lifecycle.${x}`) }))} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="validFor" label={t("salesDeals.validFor")} rules={[{ required: true }]}>
              <DatePicker style={{ width: "100%" }} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="availableByDefault" label={t("salesDeals.availableByDefaultLabel")} valuePropName="checked">
              <Switch />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="description" label={t("salesDeals.description")}>
          <Input.TextArea rows={2} maxLength={4000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** "¥800.00 每月" / "10%" / "¥0.05 / message": a price row's amount as the server sends it. */
function priceText(p: Price): string {
  if (p.percentage !== null && p.percentage !== undefined) return `${p.percentage}%`;
  const money = p.price ? formatMoney(p.price) : "—";
  return p.unitOfMeasure ? `${money} / ${p.unitOfMeasure.amount} ${p.unitOfMeasure.units}` : money;
}

export function OfferingDetail() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { id = "" } = useParams();
  const [offering, setOffering] = useState<Offering | null>(null);
  const [prices, setPrices] = useState<Price[]>([]);
  const [spec, setSpec] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const session = useSession();
  const { message } = App.useApp();
  const [editingPrice, setEditingPrice] = useState<Price | "new" | null>(null);
  const [priceReloads, setPriceReloads] = useState(0);

  useEffect(() => {
    const ctrl = new AbortController();
    (async () => {
      const o = (await api.get<Offering>(OFFERING, { path: { item_id: id }, signal: ctrl.signal })).data;
      setOffering(o);
      if (o.productSpecification) {
        const s = await api.get<{ name?: string }>(SPECIFICATION, { path: { item_id: o.productSpecification.id }, signal: ctrl.signal }).catch(() => null);
        setSpec(s?.data.name ?? o.productSpecification.id);
      }
    })().catch((e: unknown) => {
      if (ctrl.signal.aborted) return;
      setError(e instanceof ApiError && e.status === 404 ? t("salesDeals.notFound") : e instanceof Error ? e.message : String(e));
    });
    return () => ctrl.abort();
  }, [id, t]);

  // the offering's prices (again after one is added, edited or moved)
  const priceIds = (offering?.productOfferingPrice ?? []).map((p) => p.id).join(",");
  useEffect(() => {
    if (!priceIds) {
      setPrices([]);
      return;
    }
    const ctrl = new AbortController();
    api
      .get<Price[]>(PRICES, { query: { id: priceIds, limit: priceIds.split(",").length }, signal: ctrl.signal })
      .then((r) => setPrices(r.data))
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [priceIds, priceReloads, message]);

  if (error) return <Result status="warning" title={error} extra={<Button onClick={() => navigate("/sales/catalog")}>{t("common.back")}</Button>} />;
  if (!offering) return <Spin />;
  const o = offering;
  const here = nodeInfo();
  const editable = canEditCatalogItem(o, here?.tier, here?.code, session?.claims);
  /** A new price is created, then added to the offering's prices (the offering refers to it). */
  const priceSaved = async (saved: Price | null) => {
    const added = editingPrice === "new";
    setEditingPrice(null);
    if (!saved) return;
    if (!added) {
      setPriceReloads((n) => n + 1);
      return;
    }
    try {
      const refs = [...(o.productOfferingPrice ?? []).map((p) => ({ id: p.id })), { id: saved.id }];
      const r = await api.patch<Offering>(OFFERING, { path: { item_id: o.id }, body: { productOfferingPrice: refs } });
      setOffering(r.data);
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };
  const columns: TableProps<Price>["columns"] = [
    { key: "name", title: t("salesDeals.name"), dataIndex: "name" },
    { key: "priceType", title: t("salesDeals.priceType"), render: (_, r) => <Tag>{t(`salesDeals.priceTypes.${r.priceType ?? ""}`, { defaultValue: r.priceType ?? "—" })}</Tag> },
    { key: "price", title: t("salesDeals.price"), align: "right", render: (_, r) => <span data-testid="price-value">{priceText(r)}</span> },
    {
      key: "period",
      title: t("salesDeals.period"),
      render: (_, r) => (r.recurringChargePeriodType ? `${r.recurringChargePeriodLength && r.recurringChargePeriodLength > 1 ? `${r.recurringChargePeriodLength} × ` : ""}${t(`salesDeals.periods.${r.recurringChargePeriodType}`, { defaultValue: r.recurringChargePeriodType })}` : "—"),
    },
    { key: "lifecycleStatus", title: t("salesDeals.lifecycleStatus"), render: (_, r) => <LifecycleTag status={r.lifecycleStatus} /> },
    { key: "validFor", title: t("salesDeals.validFor"), render: (_, r) => formatValidFor(r.validFor) },
    {
      key: "actions",
      title: "",
      render: (_, r) => (
        <Space size="small">
          {canEditCatalogItem(r, here?.tier, here?.code, session?.claims) && (
            <Button size="small" onClick={() => setEditingPrice(r)} data-testid="edit-price">
              {t("salesDeals.edit")}
            </Button>
          )}
          <LifecycleButtons kind="productOfferingPrice" item={r} size="small" onMoved={() => setPriceReloads((n) => n + 1)} />
        </Space>
      ),
    },
  ];
  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="offering-detail">
      {editingPrice && <CatalogItemForm<Price> kind="productOfferingPrice" item={editingPrice === "new" ? undefined : editingPrice} onClose={(saved) => void priceSaved(saved)} />}
      <Card
        title={o.name}
        extra={
          <Space>
            <LifecycleButtons kind="productOffering" item={o} onMoved={setOffering} />
            <Button onClick={() => navigate(-1)}>{t("common.back")}</Button>
          </Space>
        }
      >
        <Descriptions column={2} size="small" bordered>
          <Descriptions.Item label={t("salesDeals.lifecycleStatus")}>
            <LifecycleTag status={o.lifecycleStatus} />
            {o.isBundle && <Tag color="purple">{t("salesDeals.bundle")}</Tag>}
          </Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.validFor")}>{formatValidFor(o.validFor)}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.ownerNode")}>{o.ownerNode}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.specification")}>{spec ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.availability")}>{o.availableByDefault ? t("salesDeals.availableByDefault") : t("salesDeals.notByDefault")}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.bundled")}>{(o.bundledProductOffering ?? []).map((b) => <Link key={b.id} to={`/sales/catalog/${b.id}`} style={{ marginInlineEnd: 8 }}>{b.name ?? b.id}</Link>)}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.description")} span={2}>
            {o.description ?? "—"}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card
        title={t("salesDeals.prices")}
        size="small"
        extra={
          editable && (
            <Button size="small" onClick={() => setEditingPrice("new")} data-testid="new-price">
              {t("salesDeals.newPrice")}
            </Button>
          )
        }
      >
        <Table<Price> rowKey="id" size="small" pagination={false} dataSource={prices} columns={columns} locale={{ emptyText: t("salesDeals.noPrices") }} data-testid="price-table" />
      </Card>
      <Sellable offering={o} />
    </Space>
  );
}

/** Where the offering is sellable today: this node and the nodes right below it (sellableOffering per node),
 * and at a province the province's own availability item with its toggle. */
function Sellable({ offering }: { offering: Offering }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const here = nodeInfo();
  const scope = session?.claims.scope_node ?? here?.code ?? "";
  const [where, setWhere] = useState<{ node: string; sellable: boolean | null }[]>([]);
  const [own, setOwn] = useState<Availability | null>(null);
  const [reloads, setReloads] = useState(0);
  const [saving, setSaving] = useState(false);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const author = canAuthorAvailability(here?.tier, session?.claims) && here?.code === scope && offering.ownerNode !== here?.code;

  useEffect(() => {
    const ctrl = new AbortController();
    (async () => {
      const tree = await api.get<{ code: string; parent: string | null }[]>(SUBTREE, { path: { code: scope }, signal: ctrl.signal }).catch(() => null);
      const nodes = [scope, ...(tree?.data ?? []).filter((n) => n.parent === scope).map((n) => n.code)];
      const answers = await Promise.all(
        nodes.map((node) =>
          api
            .get<Offering[]>(SELLABLE, { query: { node, limit: 1000, fields: "id" }, signal: ctrl.signal })
            .then((r) => ({ node, sellable: r.data.some((x) => x.id === offering.id) }))
            .catch(() => ({ node, sellable: null })),
        ),
      );
      setWhere(answers);
      if (here?.tier === "province") {
        const a = await api.get<Availability[]>(AVAILABILITY, { query: { "productOffering.id": offering.id, limit: 100 }, signal: ctrl.signal });
        setOwn(ownAvailability(a.data, here.code));
      }
    })().catch((e: unknown) => {
      if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
    });
    return () => ctrl.abort();
  }, [offering.id, scope, here?.tier, here?.code, reloads, message]);

  const toggle = async (isAvailable: boolean) => {
    setSaving(true);
    try {
      if (own) await api.patch(AVAILABILITY_ITEM, { path: { item_id: own.id }, body: { isAvailable } });
      else
        await api.post(AVAILABILITY, {
          body: { name: `${offering.name ?? offering.id} @ ${here?.code ?? ""}`, productOffering: { id: offering.id }, isAvailable, lifecycleStatus: "active", validFor: { startDateTime: todayUtc() } },
        });
      message.success(t("salesDeals.availabilitySaved"));
      reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setSaving(false);
    }
  };

  const isAvailable = own ? own.isAvailable !== false : offering.availableByDefault;
  return (
    <Card title={t("salesDeals.sellableHere")} size="small" data-testid="sellable">
      <Space wrap>
        {where.map((w) => (
          <Tag key={w.node} color={w.sellable ? "green" : w.sellable === false ? "red" : "default"} data-testid={`sellable-${w.node}`}>
            {w.sellable ? t("salesDeals.sellableAt", { node: w.node }) : t("salesDeals.notSellableAt", { node: w.node })}
          </Tag>
        ))}
      </Space>
      {here?.tier === "province" && offering.ownerNode !== here.code && (
        <div style={{ marginTop: 12 }} data-testid="availability">
          <Typography.Text strong>{t("salesDeals.availability")}: </Typography.Text>
          <Typography.Text type="secondary">{own ? (own.isAvailable ? t("salesDeals.available") : t("salesDeals.withdrawn")) : t("salesDeals.availabilityNone")} </Typography.Text>
          {author && <Switch checked={isAvailable} loading={saving} onChange={(v) => void toggle(v)} checkedChildren={t("salesDeals.available")} unCheckedChildren={t("salesDeals.withdrawn")} data-testid="availability-toggle" />}
        </div>
      )}
      {here?.tier === "local" && (
        <div style={{ marginTop: 12 }}>
          <Typography.Text type="secondary">{t("salesDeals.readOnlyLocal")}</Typography.Text>
        </div>
      )}
    </Card>
  );
}
