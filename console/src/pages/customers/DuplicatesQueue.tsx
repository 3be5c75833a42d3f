import { MergeCellsOutlined, ScanOutlined, StopOutlined, UndoOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Form, Input, InputNumber, Modal, Radio, Select, Space, Table, Tag, Typography } from "antd";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api } from "../../api/client";
import { ApiError } from "../../api/errors";
import type { Customer } from "../../api/types";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { enumLabel, formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { differingAttributes, mergeChoices, mergeMode, type DuplicatePair } from "./f1";
import { useFetch } from "./useFetch";

const QUEUE = "/api/v1/customer/duplicates";
const PAIR = "/api/v1/customer/duplicates/{pair_id}";
const SCAN = "/api/v1/customer/duplicates/scan";
const MERGES = "/api/v1/customer/merges";
const PROPOSALS = "/api/v1/customer/mergeProposals";
const ITEM = "/tmf-api/customerManagement/v4/customer/{customer_id}";
const ENUM_ATTRS = new Set(["industry", "nature", "mgmtLevel", "valueType", "grade"]);
const PAGE = 20;

/** 疑似重复客户: the review queue of the duplicate scan — both customers side by side, dismiss, merge (where the API allows). */
export default function DuplicatesQueue() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const claims = session?.claims;
  const here = nodeInfo()?.code;
  const mayReview = hasPermission(claims, "customer:merge");
  const [status, setStatus] = useState("OPEN");
  const [minScore, setMinScore] = useState<number | null>(null);
  const [page, setPage] = useState(1);
  const [customers, setCustomers] = useState<Record<string, Customer | null>>({});
  const [comparing, setComparing] = useState<DuplicatePair | null>(null);
  const [scanning, setScanning] = useState(false);
  const queue = useFetch(
    async (signal) => {
      const r = await api.get<DuplicatePair[]>(QUEUE, { query: { status, "score.gte": minScore ?? undefined, offset: (page - 1) * PAGE, limit: PAGE }, signal });
      return { rows: r.data, total: r.total ?? r.data.length };
    },
    [status, minScore, page],
  );

  // the two customers of every pair shown (the queue names ids only)
  const rows = queue.data?.rows;
  useEffect(() => {
    if (!rows) return;
    const missing = [...new Set(rows.flatMap((p) => [p.customerA, p.customerB]))].filter((id) => !(id in customers));
    if (!missing.length) return;
    let live = true;
    void Promise.all(
      missing.map((id) =>
        api
          .get<Customer>(ITEM, { path: { customer_id: id } })
          .then((r) => [id, r.data] as const)
          .catch(() => [id, null] as const),
      ),
    ).then((got) => live && setCustomers((c) => ({ ...c, ...Object.fromEntries(got) })));
    return () => {
      live = false;
    };
  }, [rows, customers]);

  async function scan() {
    setScanning(true);
    try {
      const r = await api.post<{ pairs: number; scannedScope: string }>(SCAN, { body: {} });
      message.success(t("f1.dup.scanned", { pairs: r.data.pairs, scope: r.data.scannedScope }));
      queue.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setScanning(false);
    }
  }

  async function review(p: DuplicatePair, next: "OPEN" | "DISMISSED") {
    try {
      await api.patch(PAIR, { path: { pair_id: p.id }, body: { status: next } });
      message.success(t("common.saved"));
      queue.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  }

  const who = (id: string, owner: string) => {
    const c = customers[id];
    return (
      <Space direction="vertical" size={0}>
        <Link to={`/customers/${id}`}>{c?.name ?? id.slice(0, 8)}</Link>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {c?.customerCode ?? ""} · {owner}
        </Typography.Text>
      </Space>
    );
  };

  return (
    <Card
      title={t("f1.dup.title")}
      data-testid="duplicates-queue"
      extra={
        <Space>
          <Link to="/customers">{t("customer.list")}</Link>
          <Link to="/customers/merge-proposals" data-testid="proposals-link">{t("f1.dup.proposals")}</Link>
          {mayReview && (
            <Button icon={<ScanOutlined />} loading={scanning} onClick={() => void scan()} data-testid="duplicates-scan">
              {t("f1.dup.scan")}
            </Button>
          )}
        </Space>
      }
    >
      <Space style={{ marginBottom: 12 }} wrap>
        <Select
          value={status}
          onChange={(v) => {
            setStatus(v);
            setPage(1);
          }}
          style={{ width: 140 }}
          options={["OPEN", "DISMISSED", "MERGED"].map((s) => ({ value: s, label: enumLabel(t, "pairStatus", s) }))}
          data-testid="duplicates-status"
        />
        <InputNumber
          min={0}
          max={100}
          placeholder={t("f1.dup.minScore")}
          value={minScore}
          onChange={(v) => {
            setMinScore(v);
            setPage(1);
          }}
          style={{ width: 140 }}
        />
      </Space>
      <Table<DuplicatePair>
        rowKey="id"
        size="middle"
        loading={queue.data === null && queue.error === null}
        dataSource={rows ?? []}
        data-testid="duplicates-table"
        pagination={{ current: page, pageSize: PAGE, total: queue.data?.total ?? 0, onChange: setPage, showTotal: (n) => t("common.total", { count: n }) }}
        columns={[
          { title: t("f1.dup.customerA"), render: (_, p) => who(p.customerA, p.ownerA) },
          { title: t("f1.dup.customerB"), render: (_, p) => who(p.customerB, p.ownerB) },
          { title: t("f1.dup.score"), dataIndex: "score", width: 80, render: (s: number) => <Tag color={s >= 90 ? "red" : s >= 70 ? "orange" : "default"}>{s}</Tag> },
          {
            title: t("f1.dup.reasons"),
            render: (_, p) =>
              p.reasons.map((r) => (
                <Tag key={r.signal}>
                  {t(`f1.signal.${r.signal}`, { defaultValue: r.signal })} {r.weight}
                </Tag>
              )),
          },
          { title: t("common.status"), width: 90, render: (_, p) => enumLabel(t, "pairStatus", p.status) },
          { title: t("f1.dup.foundAt"), width: 140, render: (_, p) => formatTime(p.foundAt) },
          {
            title: t("common.actions"),
            width: 220,
            render: (_, p) => (
              <Space size={4} wrap>
                <Button size="small" onClick={() => setComparing(p)} data-testid="duplicate-open">
                  {t("f1.dup.compare")}
                </Button>
                {mayReview && p.status === "OPEN" && (
                  <Button size="small" icon={<StopOutlined />} onClick={() => void review(p, "DISMISSED")} data-testid="duplicate-dismiss">
                    {t("f1.dup.dismiss")}
                  </Button>
                )}
                {mayReview && p.status === "DISMISSED" && (
                  <Button size="small" icon={<UndoOutlined />} onClick={() => void review(p, "OPEN")}>
                    {t("f1.dup.reopen")}
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
      {comparing && (
        <CompareModal
          pair={comparing}
          a={customers[comparing.customerA] ?? null}
          b={customers[comparing.customerB] ?? null}
          mode={mergeMode(claims, here, nodeInfo()?.tier, comparing)}
          onClose={() => setComparing(null)}
          onMerged={(survivor, mode) => {
            setComparing(null);
            setCustomers((c) => Object.fromEntries(Object.entries(c).filter(([id]) => id !== comparing.customerA && id !== comparing.customerB)));
            queue.reload();
            message.success(t(mode === "merge" ? "f1.dup.merged" : "f1.dup.proposed", { name: survivor }));
          }}
        />
      )}
    </Card>
  );
}

function CompareModal({ pair, a, b, mode, onClose, onMerged }: { pair: DuplicatePair; a: Customer | null; b: Customer | null; mode: "merge" | "propose" | null; onClose: () => void; onMerged: (survivorName: string, mode: "merge" | "propose") => void }) {
  const mergeable = mode !== null;
  const { t } = useTranslation();
  const [survivor, setSurvivor] = useState(pair.customerA);
  const [picked, setPicked] = useState<Record<string, string>>({});
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const attrs = useMemo(() => (a && b ? differingAttributes(a as never, b as never) : []), [a, b]);
  const show = (c: Customer | null, k: string) => {
    const v = c ? (c as unknown as Record<string, unknown>)[k] : null;
    if (v === null || v === undefined || v === "") return "—";
    return ENUM_ATTRS.has(k) ? enumLabel(t, k as "grade", String(v)) : String(v);
  };
  const rows = ["customerCode", "ownerNode", "name", "creditCode", "address", "industry", "grade", "accountManager", "status", "verification"];
  const victim = survivor === pair.customerA ? pair.customerB : pair.customerA;
  const survivorName = (survivor === pair.customerA ? a : b)?.name ?? survivor;

  async function merge() {
    setBusy(true);
    setError(null);
    try {
      const choice = Object.fromEntries(attrs.map((k) => [k, picked[k] ?? survivor]));
      const body = { survivorId: survivor, victimIds: [victim], choices: mergeChoices(survivor, choice), reason: reason.trim() || null };
      // across owner nodes this node proposes, and each owner answers its side (docs/customer-f1.md)
      if (mode === "propose") await api.post(PROPOSALS, { body });
      else await api.post(MERGES, { body });
      onMerged(survivorName, mode ?? "merge");
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open
      width={900}
      title={t("f1.dup.compareTitle", { score: pair.score })}
      onCancel={onClose}
      footer={
        mergeable
          ? [
              <Button key="c" onClick={onClose}>
                {t("common.cancel")}
              </Button>,
              <Button key="m" type="primary" danger icon={<MergeCellsOutlined />} loading={busy} onClick={() => void merge()} data-testid="merge-submit">
                {t(mode === "propose" ? "f1.dup.propose" : "f1.dup.merge")}
              </Button>,
            ]
          : [
              <Button key="c" onClick={onClose}>
                {t("common.close")}
              </Button>,
            ]
      }
    >
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} data-testid="merge-error" />}
      {!mergeable && pair.status === "OPEN" && <Alert type="info" showIcon message={t("f1.dup.notHere", { a: pair.ownerA, b: pair.ownerB })} style={{ marginBottom: 12 }} />}
      <Table
        size="small"
        pagination={false}
        rowKey="k"
        data-testid="compare-table"
        dataSource={rows.map((k) => ({ k }))}
        columns={[
          { title: "", width: 150, render: (_, r) => (r.k === "verification" ? t("f1.verification.title") : t(`customer.${r.k}`)) },
          {
            title: (
              <Space>
                <Link to={`/customers/${pair.customerA}`} target="_blank">
                  A
                </Link>
                {mergeable && <Radio checked={survivor === pair.customerA} onChange={() => setSurvivor(pair.customerA)} data-testid="survivor-a">{t("f1.dup.survivor")}</Radio>}
              </Space>
            ),
            render: (_, r) => (r.k === "verification" ? enumLabel(t, "verification", a?.verification) : show(a, r.k)),
          },
          {
            title: (
              <Space>
                <Link to={`/customers/${pair.customerB}`} target="_blank">
                  B
                </Link>
                {mergeable && <Radio checked={survivor === pair.customerB} onChange={() => setSurvivor(pair.customerB)} data-testid="survivor-b">{t("f1.dup.survivor")}</Radio>}
              </Space>
            ),
            render: (_, r) => (r.k === "verification" ? enumLabel(t, "verification", b?.verification) : show(b, r.k)),
          },
        ]}
      />
      {mergeable && attrs.length > 0 && (
        <>
          <Typography.Title level={5} style={{ marginTop: 16 }}>
            {t("f1.dup.choices")}
          </Typography.Title>
          <Form layout="horizontal" labelCol={{ span: 5 }}>
            {attrs.map((k) => (
              <Form.Item key={k} label={t(`customer.${k}`)} style={{ marginBottom: 4 }}>
                <Radio.Group value={picked[k] ?? survivor} onChange={(e) => setPicked((p) => ({ ...p, [k]: String(e.target.value) }))}>
                  <Radio value={pair.customerA}>A: {show(a, k)}</Radio>
                  <Radio value={pair.customerB}>B: {show(b, k)}</Radio>
                </Radio.Group>
              </Form.Item>
            ))}
          </Form>
        </>
      )}
      {mergeable && (
        <Form layout="vertical" style={{ marginTop: 12 }}>
          <Form.Item label={t("f1.dup.reason")}>
            <Input maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} data-testid="merge-reason" />
          </Form.Item>
          <Typography.Text type="secondary">{t("f1.dup.mergeHint")}</Typography.Text>
        </Form>
      )}
    </Modal>
  );
}
