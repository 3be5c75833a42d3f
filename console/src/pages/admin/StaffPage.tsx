import { App, Button, Card, Form, Input, Modal, Select, Space, Table, Tag } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { tablePagination, usePagedList } from "../../api/useTmfList";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import type { Role, Staff } from "../../api/types";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { nodeInfo } from "../../env";
import { useLang } from "../../lang";

export default function StaffPage() {
  const { t } = useTranslation();
  const { lang } = useLang();
  const { message } = App.useApp();
  const session = useSession();
  const list = usePagedList<Staff>("/api/v1/org/staff");
  const [roles, setRoles] = useState<Role[]>([]);
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const canWrite = hasPermission(session?.claims, "org.staff:write");

  useEffect(() => {
    api.get<Role[]>("/api/v1/org/roles", { query: { limit: 1000 } }).then((r) => setRoles(r.data)).catch(() => setRoles([]));
  }, []);

  const create = async (v: Record<string, unknown>) => {
    try {
      await api.post("/api/v1/org/staff", { body: v });
      setOpen(false);
      form.resetFields();
      message.success(t("common.created"));
      list.reload();
    } catch (e) {
      const left = applyFieldErrors(form, e, null);
      if (left) message.error(left);
    }
  };

  const deactivate = async (s: Staff) => {
    try {
      await api.del("/api/v1/org/staff/{staff_id}", { path: { staff_id: s.id } });
      list.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  const roleName = (code: string) => {
    const r = roles.find((x) => x.code === code);
    return r ? (lang === "zh" ? r.nameZh : r.nameEn) : code;
  };

  return (
    <Card
      title={t("admin.staff")}
      data-testid="admin-staff"
      extra={canWrite && <Button type="primary" onClick={() => setOpen(true)}>{t("common.create")}</Button>}
    >
      <Table<Staff>
        rowKey="id"
        size="middle"
        loading={list.loading}
        dataSource={list.rows}
        pagination={tablePagination(list, t)}
        columns={[
          { title: t("admin.username"), dataIndex: "username" },
          { title: t("admin.displayName"), dataIndex: "displayName" },
          { title: t("admin.roleList"), render: (_, s) => s.roles.map((r) => <Tag key={r}>{roleName(r)}</Tag>) },
          { title: t("admin.email"), dataIndex: "email" },
          { title: t("admin.active"), render: (_, s) => (s.isActive ? <Tag color="green">{t("common.yes")}</Tag> : <Tag>{t("common.no")}</Tag>) },
          { title: t("common.owner"), dataIndex: "ownerNode" },
          {
            title: t("common.actions"),
            render: (_, s) =>
              canWrite && s.isActive && s.ownerNode === nodeInfo()?.code ? (
                <Space>
                  <Button size="small" danger onClick={() => deactivate(s)}>
                    {t("admin.deactivate")}
                  </Button>
                </Space>
              ) : null,
          },
        ]}
      />
      <Modal open={open} title={t("admin.staff")} onCancel={() => setOpen(false)} onOk={() => form.submit()}>
        <Form form={form} layout="vertical" onFinish={create}>
          <Form.Item name="username" label={t("admin.username")} rules={[{ required: true }]}>
            <Input />
          </Form.Item>
          <Form.Item name="displayName" label={t("admin.displayName")} rules={[{ required: true }]}>
            <Input />
          </Form.Item>
          <Form.Item name="password" label={t("admin.password")} rules={[{ required: true }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="email" label={t("admin.email")}>
            <Input />
          </Form.Item>
          <Form.Item name="phone" label={t("admin.phone")}>
            <Input />
          </Form.Item>
          <Form.Item name="roles" label={t("admin.roleList")}>
            <Select mode="multiple" options={roles.map((r) => ({ value: r.code, label: roleName(r.code) }))} />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
