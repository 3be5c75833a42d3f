// One paged list of the 360 view: a card whose title carries the list's X-Total-Count, a small table
// paged at the server (the caller's usePagedList, so it can reload it), and whatever the panel adds.
import { Card, Table, Tag } from "antd";
import type { TableProps } from "antd";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { formatTotal, tablePagination, type usePagedList } from "../../api/useTmfList";

/** The page size of every 360 list (a panel among many). */
export const PANEL_PAGE = 5;

export interface ListPanelProps<T> {
  title: string;
  testId: string;
  list: ReturnType<typeof usePagedList<T>>;
  columns: TableProps<T>["columns"];
  extra?: ReactNode;
  above?: ReactNode;
  expandable?: TableProps<T>["expandable"];
}

export function ListPanel<T extends { id: string }>(p: ListPanelProps<T>) {
  const { t } = useTranslation();
  const { list } = p;
  return (
    <Card
      size="small"
      data-testid={p.testId}
      title={
        <span>
          {p.title}{" "}
          <Tag data-testid={`${p.testId}-count`} data-count={list.total}>
            {formatTotal(list.total, list.totalIsLowerBound)}
          </Tag>
        </span>
      }
      extra={p.extra}
    >
      {p.above}
      <Table<T>
        size="small"
        rowKey="id"
        loading={list.loading}
        dataSource={list.rows}
        columns={p.columns}
        expandable={p.expandable}
        pagination={{ ...tablePagination(list, t), size: "small", showSizeChanger: false }}
        data-testid={`${p.testId}-table`}
      />
    </Card>
  );
}
