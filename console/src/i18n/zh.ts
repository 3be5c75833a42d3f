// 简体中文 (the default). Every key here exists in en.ts too (checked by i18n.test.ts).
import { zh as salesPipeline } from "./sales-pipeline";
import { zh as salesDeals } from "./sales-deals";
import { zh as salesMarketing } from "./sales-marketing";
import { zh as customer360 } from "./customer-360";

const zh = {
  app: { title: "大客户工作台", product: "KAM 大客户营销服务平台" },
  tier: { group: "集团节点", province: "省级节点", local: "本地网节点" },
  common: {
    search: "搜索", reset: "重置", save: "保存", cancel: "取消", create: "新建", edit: "编辑", delete: "删除",
    refresh: "刷新", actions: "操作", yes: "是", no: "否", total: "共 {{count}} 条", loading: "加载中…",
    empty: "暂无数据", back: "返回", submit: "提交", confirm: "确认", close: "关闭", saved: "已保存",
    created: "已创建", deleted: "已删除", view: "查看", columns: "列设置", language: "语言", logout: "退出登录",
    scope: "数据范围", node: "节点", owner: "归属节点", updatedAt: "更新时间", createdAt: "创建时间",
    version: "版本", status: "状态", name: "名称", code: "编码", kind: "类型", description: "说明",
    futureSource: "将由后续服务提供：{{source}}", readOnlyReplica: "只读副本：该客户归属于 {{owner}}，请在归属节点修改",
    error: "出错了", forbidden: "无权限", notFound: "未找到", retry: "重试",
  },
  menu: {
    workbench: "工作台", customers: "客户管理", national: "全国大客户名单", federation: "联邦状态",
    admin: "系统管理", dashboard: "统计看板", rules: "业务规则", staff: "员工", teams: "团队", orgUnits: "组织单元", roles: "角色与权限",
    // service (issue 12)
    service: "客户服务", tickets: "服务工单", knowledge: "知识库", documents: "文档管理", care: "客户关怀", experts: "专家服务",
    // sales (issue 11)
    sales: "销售管理", leads: "销售线索", opportunities: "销售机会", pipeline: "销售漏斗", visits: "客户拜访", forecast: "销售预测",
    deals: "报价与合同", quotes: "报价", contracts: "合同", catalog: "产品目录", offerings: "产品与资费", marketing: "市场营销", campaigns: "营销活动",
  },
  login: {
    title: "登录", username: "用户名", password: "密码", submit: "登录", failed: "用户名或密码错误",
    throttled: "失败次数过多，请 {{seconds}} 秒后再试", required: "请输入{{field}}", nodeUnknown: "未知节点",
  },
  password: {
    title: "修改密码", mustChange: "首次登录请先修改初始密码", current: "当前密码", next: "新密码",
    confirm: "确认新密码", mismatch: "两次输入的密码不一致", changed: "密码已修改，请重新登录",
  },
  workbench: {
    welcome: "{{name}}，欢迎回来", myCustomers: "我的客户", reminders: "我的提醒与待办", awaiting: "待我答复的全国大客户",
    recent: "我范围内的最近变更", noReminders: "暂无提醒（提醒与待办由销售与服务模块提供）",
  },
  customer: {
    list: "客户列表", create: "新建客户", edit: "编辑客户", view: "客户视图", searchPlaceholder: "客户名称 / 客户编码 / 统一社会信用代码",
    name: "客户名称", shortName: "简称", customerCode: "客户编码", creditCode: "统一社会信用代码", customerType: "客户结构",
    nature: "客户性质", mgmtLevel: "管理级别", industry: "行业", valueType: "价值类型", grade: "客户等级", status: "生命周期状态",
    statusReason: "状态原因", recognitionStatus: "认定状态", accountManager: "客户经理", address: "地址", description: "说明",
    enterpriseScale: "企业规模", ownerNode: "归属节点", parentCustomer: "上级客户",
    export: "导出", exportCsv: "导出 CSV", exportXlsx: "导出 Excel", import: "导入", importDone: "导入完成：成功 {{ok}} 行，失败 {{failed}} 行",
    importErrors: "导入错误明细", row: "行号", field: "字段", message: "错误信息",
    profile: "客户档案", contacts: "联系人", decisionRole: "决策角色", hierarchy: "集团层级", managers: "客户经理历史",
    history: "变更历史", designation: "全国大客户认定", products: "已订产品", bills: "账单", contracts: "合同", tickets: "服务工单", opportunities: "商机",
    who: "操作人", when: "时间", action: "动作", change: "变更（原值 → 新值）", validFrom: "起始", validTo: "截止", previous: "原客户经理",
    reason: "原因", assignedBy: "分配人", title: "职务", department: "部门", primary: "主联系人",
  },
  f1: {
    versionBy: "第 {{version}} 版 · {{who}} · {{when}}", confirmDelete: "确定删除？",
    needs: {
      title: "需求档案", networkSituation: "网络情况", businessSituation: "业务情况", techInnovationGoals: "技术创新目标",
      currentProductUsage: "现用产品使用情况", decisionProcess: "决策流程", latentNeeds: "潜在需求", businessScope: "经营范围",
      customersOfCustomer: "客户的客户",
    },
    competitor: {
      title: "竞争信息", add: "新增竞争信息", edit: "编辑竞争信息", competitor: "竞争对手", productsHeld: "在用产品",
      offers: "优惠 / 折扣", contractEnd: "合同到期", source: "信息来源", observedOn: "获取日期", note: "备注",
      productsHint: "多个产品用逗号或顿号分隔",
    },
    decision: {
      title: "决策链", from: "联系人", to: "对象", relationType: "关系", note: "备注", add: "添加关系",
      noContacts: "暂无联系人", noRole: "未设角色",
    },
    verification: {
      title: "省级核实", verify: "核实通过", return: "退回", reason: "退回原因", reasonShown: "退回原因：{{reason}}",
      by: "{{who}}（{{node}}）于 {{when}} 核实第 {{version}} 版", verifier: "由 {{node}} 核实",
      bulk: "批量核实（{{count}}）", bulkTitle: "批量核实结果", bulkDone: "核实成功 {{ok}} 户，失败 {{failed}} 户",
    },
    dup: {
      title: "疑似重复客户", scan: "扫描重复", scanned: "扫描完成（{{scope}}）：{{pairs}} 对疑似重复", minScore: "最低分数",
      customerA: "客户 A", customerB: "客户 B", score: "相似度", reasons: "依据", foundAt: "发现时间", compare: "对比",
      dismiss: "不是重复", reopen: "重新打开", compareTitle: "对比疑似重复客户（相似度 {{score}}）", survivor: "保留",
      choices: "逐项选择保留值", reason: "合并原因", merge: "合并", merged: "已合并到 {{name}}",
      mergeHint: "被合并客户的联系人、竞争信息、决策链和需求档案转入保留客户；30 天内可撤销。",
      notHere: "只能在两个客户的归属节点合并（{{a}} / {{b}}），或由两者的共同上级节点提议合并",
      propose: "提议合并", proposed: "合并提议已发给各归属节点（保留 {{name}}）", proposals: "跨节点合并提议",
    },
    proposal: {
      title: "跨节点合并提议", survivor: "保留客户", victims: "被合并客户", state: "状态", sides: "各归属节点的答复",
      proposedBy: "提议人", accept: "同意", reject: "拒绝", withdraw: "撤回提议", rejectReason: "拒绝原因",
      answered: "已答复", withdrawn: "提议已撤回", hint: "共同上级节点提议；各归属节点答复本节点的一方；被合并客户移交保留客户的归属节点后在该节点合并。",
      states: { PROPOSED: "提议中", PENDING: "待答复", REJECTED: "已拒绝", MERGED: "已合并", WITHDRAWN: "已撤回", ACCEPTED: "已同意" },
    },
    signal: { creditCode: "信用代码相同", name: "名称相同", phone: "电话相同", address: "地址相同" },
  },
  enum: {
    grade: { A: "A 钻石", B: "B 金", C: "C 银" },
    status: { PROSPECT: "潜在", INTENT: "意向", ACTIVE: "在网", AT_RISK: "流失预警", SUSPENDED: "暂停", ARREARS: "欠费", LOST: "流失", CLOSED: "注销" },
    industry: { FINANCE: "金融", GOVERNMENT: "政府", EDUCATION: "教育", HEALTH: "医疗卫生", MANUFACTURING: "制造", ENERGY: "能源", TRANSPORT: "交通物流", MEDIA: "媒体", INTERNET: "互联网", COMMERCE: "商贸", OTHER: "其他" },
    customerType: { GROUP_CUSTOMER: "集团客户", SINGLE: "单体客户" },
    mgmtLevel: { GROUP: "集团级", PROVINCE: "省级", LOCAL: "本地网级" },
    nature: { PARTY_GOV_MIL: "党政军", ENTERPRISE: "企业", PUBLIC_INSTITUTION: "事业单位", SOCIAL_ORG: "社会团体", FOREIGN: "外资企业", CARRIER: "运营商客户" },
    valueType: { INTRINSIC: "内在价值", EXTRINSIC: "外在价值", STRATEGIC: "战略价值" },
    recognitionStatus: { CANDIDATE: "候选", CONFIRMED: "已认定", UNDER_REVIEW: "复核中", DOWNGRADED: "降级", EXITED: "退出" },
    decisionRole: { DECISION_MAKER: "决策者", INFLUENCER: "影响者", USER: "使用者" },
    relationType: { REPORTS_TO: "汇报给", INFLUENCES: "影响", ALLY: "支持", OPPONENT: "反对" },
    verification: { unverified: "待核实", verified: "已核实", returned: "已退回", notRequired: "无需核实" },
    pairStatus: { OPEN: "待处理", DISMISSED: "不是重复", MERGED: "已合并" },
    designationStatus: { ACTIVE: "有效", WITHDRAWN: "已撤销" },
    responseStatus: { ACKNOWLEDGED: "已确认", DISPUTED: "有异议", ASSIGNED: "已分配", PENDING: "待答复" },
    action: { create: "创建", update: "修改", delete: "删除", status: "状态变更", assign: "分配客户经理", import: "导入", transfer: "转移", merge: "合并", unmerge: "撤销合并", reverse: "撤销合并", verify: "省级核实", designate: "全国名单认定", recognize: "认定", respond: "答复" },
  },
  // the service service's screens (issue 12)
  service: {
    tickets: "服务工单", newTicket: "新建工单", ticket: "工单", searchPlaceholder: "标题 / 客户 / 业务号码", breachedOnly: "仅超时",
    name: "标题", description: "问题描述", ticketType: "工单类型", channel: "受理渠道", priority: "优先级", status: "状态",
    customer: "客户", customerGrade: "客户等级", pickCustomer: "搜索并选择客户", affectedService: "业务号码 / 电路编号",
    externalId: "外部单号", handler: "处理人", ownerNode: "受理节点", creationDate: "受理时间", lastUpdate: "更新时间",
    resolutionDate: "解决时间", closedDate: "关闭时间", reopenCount: "重开次数", responseDue: "响应时限", resolveDue: "解决时限",
    sla: "服务时限（SLA）", noSla: "无适用的 SLA 规则（无时限）", rule: "规则", calendar: "计时日历", pausedMinutes: "已暂停（分钟）",
    escalation: "升级阶梯", escalationLevel: "升级级别", step: "步骤", to: "通知对象", dueAt: "到期", firedAt: "已触发",
    history: "状态历史", actor: "操作人", reason: "原因", actions: "可执行操作", noActions: "无可执行操作",
    replica: "只读副本：该工单由 {{owner}} 受理，请在受理节点处理", dispatched: "已派单至 {{node}} 处理",
    move: "变更状态", moveTo: "变更为：{{status}}", revisit: "回访", satisfied: "客户是否满意", satisfiedYes: "满意（关闭工单）",
    satisfiedNo: "不满意（重开工单）", score: "满意度", comment: "回访意见", survey: "满意度调查", closedOk: "工单已关闭",
    reopened: "工单已重开", moved: "状态已变更", audit: "审计记录",
    left: "剩余 {{time}}", over: "超时 {{time}}", dhm: "{{d}}天{{h}}小时{{m}}分", hm: "{{h}}小时{{m}}分", mOnly: "{{m}}分",
    deadline: {
      met: "按时完成", late: "超时完成", breached: "已超时", soon: "即将超时", running: "计时中", paused: "已暂停（待客户）",
      stopped: "未计", none: "—",
    },
    types: { COMPLAINT: "投诉", FAULT: "故障", CONSULTATION: "咨询", CHANGE_REQUEST: "变更" },
    channels: { HOTLINE: "热线", CS_10000: "10000 客服", ACCOUNT_MANAGER: "客户经理", EMAIL: "电子邮件", WEB: "网站" },
    priorities: { CRITICAL: "紧急", HIGH: "高", MEDIUM: "中", LOW: "低" },
    statuses: {
      acknowledged: "已受理", inProgress: "处理中", pending: "待客户反馈", resolved: "已解决（待回访）", closed: "已关闭",
      rejected: "已驳回", cancelled: "已取消",
    },
    moves: { inProgress: "开始处理", pending: "等待客户", resolved: "已解决", rejected: "驳回", cancelled: "取消" },
    knowledge: "知识库", kSearch: "搜索知识（中文关键词，空格分隔）", newItem: "新建知识", contribute: "投稿（由上级省公司审核）",
    editItem: "编辑知识", kind: "知识类型", title: "标题", summary: "摘要", body: "正文", tags: "标签", revision: "修订版本",
    author: "作者", reviewer: "审核人", publishedAt: "发布时间", rank: "相关度", contributions: "我的投稿", reviewingNode: "审核节点",
    outcome: "处理结果", contributed: "投稿已提交", kindNames: { PRODUCT_SPEC: "产品规格", SOLUTION_CASE: "方案案例", POLICY: "政策", COMPETITOR: "竞争情报", FAQ: "常见问题" },
    itemStatuses: { draft: "草稿", reviewed: "已审核", published: "已发布", retired: "已停用" },
    kActions: { edit: "编辑", review: "审核通过", publish: "发布", retire: "停用", revise: "修订" },
    documents: "文档管理", category: "文档类别", currentVersion: "当前版本", fileName: "文件名", size: "大小", expiresOn: "到期日",
    expired: "已过期", open: "打开", createdBy: "创建人", relatedEntity: "关联对象",
    categories: { CONTRACT_SCAN: "合同扫描件", PROPOSAL: "方案建议书", TENDER: "投标文件", VISIT_MINUTES: "拜访纪要", SOLUTION: "技术方案", OTHER: "其他" },
    care: "客户关怀", plans: "关怀计划", activities: "关怀活动", occasion: "时机", leadDays: "提前天数", budget: "每户预算", targets: "对象数",
    segment: "客户群", active: "启用", dueOn: "计划日期", cost: "费用", feedback: "反馈", satisfaction: "满意度",
    careKinds: { BIRTHDAY_GREETING: "生日问候", HOLIDAY_GREETING: "节日问候", EXECUTIVE_VISIT: "高层拜访", VIP_EVENT: "VIP 活动" },
    careStatuses: { PROPOSED: "建议", PLANNED: "已计划", DONE: "已完成", CANCELLED: "已取消" },
    experts: "专家服务", pool: "专家库", requests: "专家请求", expert: "专家", username: "账号", domains: "专业领域", industries: "行业",
    subject: "主题", domain: "领域", industry: "行业", requestedBy: "申请人", outcomeSummary: "结论",
    requestStatuses: { REQUESTED: "已申请", ASSIGNED: "已指派", ANSWERED: "已答复", CLOSED: "已关闭", CANCELLED: "已取消" },
  },
  national: {
    title: "全国大客户名单", designate: "认定全国大客户", customer: "客户", grade: "等级", groupAccountManager: "集团客户经理",
    serviceLevel: "服务等级", note: "备注", responses: "各节点答复", acknowledge: "确认", dispute: "提出异议", assign: "分配客户经理",
    withdraw: "撤销认定", answered: "已答复", reason: "理由", customerId: "客户 ID", respondedBy: "答复人", myAnswer: "本节点答复",
    onlyGroup: "仅集团节点可认定", pickCustomer: "选择客户",
  },
  federation: {
    title: "联邦状态", tree: "节点树", links: "链路", peer: "对端", role: "方向", parent: "上级", child: "下级", connected: "已连接",
    disconnected: "已断开", sources: "数据源", lag: "滞后（消息）", idle: "空闲（秒）", consumers: "消费者", pending: "待处理",
    ackPending: "待确认", redelivered: "重投次数", deadLetters: "死信", resync: "重新同步", resyncDone: "已请求重新同步",
    lagChart: "最近几分钟的滞后", state: "状态", checkedAt: "检查时间", ok: "正常", degraded: "降级",
  },
  admin: {
    staff: "员工", teams: "团队", orgUnits: "组织单元", roles: "角色与权限", username: "用户名", displayName: "姓名",
    phone: "电话", email: "邮箱", roleList: "角色", active: "在职", orgUnit: "组织单元", leader: "负责人", members: "成员数",
    parent: "上级单元", permissions: "权限", nameZh: "中文名", nameEn: "英文名", password: "初始密码", deactivate: "停用",
    rules: "业务规则",
  },
  rules: {
    draft: "新建规则草稿", kind: "规则类型", scope: "适用范围", validFrom: "生效日期", author: "起草人", parameters: "参数（JSON）",
    approve: "审批", publish: "发布", retire: "停用", badJson: "参数不是合法的 JSON",
    status: { DRAFT: "草稿", APPROVED: "已审批", PUBLISHED: "已发布", RETIRED: "已停用" },
    kinds: { recognition: "大客户认定与分级", value_scoring: "价值评分", churn_warning: "流失预警", sla: "服务时限与升级", reminder: "合同与回访提醒", opportunity_probability: "商机阶段概率", assignment: "客户经理分配", settlement_split: "一点收费结算分摊" },
  },
  dashboard: {
    title: "统计看板", byGrade: "按等级", byIndustry: "按行业", byNode: "按节点", candidates: "认定候选客户", designations: "全国大客户认定状态",
    drill: "点击柱形下钻到下级节点", up: "返回上级", customers: "客户数",
  },
  // the sales screens (issue 11), one file per part
  salesPipeline,
  salesDeals,
  salesMarketing,
  customer360,
};

export default zh;
export type Dict = typeof zh;
