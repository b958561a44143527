"""The county inspection workbook, declared once.

Every sheet, column (Chinese header), type, choice list and required / required-if rule lives here.
The template generator, the reader, the completeness checks and the messages are all derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    """How a cell's content is read and checked."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    MONTH = "month"
    YEAR = "year"
    CHOICE = "choice"
    YES_NO = "yes_no"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    REGION_CODE = "region_code"


class Layout(StrEnum):
    """A form sheet has one labelled value per row; a table sheet has one header row and a record per row."""

    FORM = "form"
    TABLE = "table"


YES, NO, NOT_APPLICABLE = "是", "否", "不涉及"

HOUSEHOLD_POOR = "建档立卡贫困户"
HOUSEHOLD_EXITED = "脱贫户"
HOUSEHOLD_ORDINARY = "普通农户"
HOUSEHOLD_TYPES = (HOUSEHOLD_POOR, HOUSEHOLD_EXITED, HOUSEHOLD_ORDINARY)
REGISTERED_TYPES = (HOUSEHOLD_POOR, HOUSEHOLD_EXITED)

INSPECTION_MODES = ("重点督查", "随机暗访", "暗访回访")
N_STATIONED = "驻村帮扶情况"
N_HEALTH = "健康扶贫政策落实情况"
N_EDUCATION = "教育扶贫政策落实情况"
N_LIVING = "基本生产生活条件改善情况"
N_SECURITY = "社会保障兜底政策落实情况"
KEY_ITEMS = (N_STATIONED, N_HEALTH, N_EDUCATION, N_LIVING, N_SECURITY)
IDENTIFICATION_STANDARDS = ("国家", "省定", "市定")
POOR_ATTRIBUTES = ("一般贫困户", "低保贫困户", "特困供养贫困户")
POVERTY_CAUSES = (
    "因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金",
    "交通条件落后", "自身发展动力不足", "其他",
)
RECOGNITION = ("认可", "不认可")
ACCURACY_VERDICTS = ("准确", "不准确")
INTERVIEW_KINDS = ("乡村干部访谈", "帮扶干部电话抽查")
LINE_SCOPES = ("国家", "地方")


@dataclass(frozen=True)
class When:
    """A condition on another field of the same record: its value is one of `values`."""

    field: str
    values: tuple[str, ...]

    def describe(self, headers: dict[str, str]) -> str:
        """Chinese wording, e.g. 「户类型」为脱贫户."""
        return f"「{headers[self.field]}」为{'或'.join(self.values)}"


@dataclass(frozen=True)
class Field:
    """One column of a table sheet, or one labelled row of a form sheet."""

    key: str
    header: str
    type: FieldType
    required: bool = False
    when: When | None = None  # the field only applies (and, if required, is only required) when this holds
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    prompt: str = ""
    width: float = 12
    aliases: tuple[str, ...] = ()
    key_items: tuple[str, ...] = ()  # required in the months whose 重点督查内容 (N item) is one of these

    def needed_for(self, key_item: str | None) -> bool:
        """Required this month: always, or because the month's N item needs it."""
        return self.required or (key_item is not None and key_item in self.key_items)

    def key_item_text(self) -> str:
        return "」或「".join(self.key_items)

    def label(self) -> str:
        """The header as written in the template: unit in brackets, * for required."""
        unit = f"({self.unit})" if self.unit else ""
        star = "*" if self.required else ""
        return f"{self.header}{unit}{star}"


@dataclass(frozen=True)
class Sheet:
    """One input sheet of the workbook."""

    key: str
    name: str
    layout: Layout
    fields: tuple[Field, ...]
    description: str = ""
    aliases: tuple[str, ...] = ()
    min_rows: int = 0
    has_source_column: bool = False  # form sheets: a third column 数据来源 for each figure
    optional: bool = False  # a workbook without this sheet is complete (参数 has defaults; 回访 only when due)

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def headers(self) -> dict[str, str]:
        return {f.key: f.header for f in self.fields}


def _items(key_item: str | tuple[str, ...]) -> tuple[str, ...]:
    return (key_item,) if isinstance(key_item, str) and key_item else tuple(key_item)


def _yes_no(key: str, header: str, *, required: bool = False, when: When | None = None,
            na: bool = False, prompt: str = "", width: float = 10, key_item: str | tuple[str, ...] = "") -> Field:
    choices = (YES, NO, NOT_APPLICABLE) if na else (YES, NO)
    return Field(key, header, FieldType.YES_NO, required=required, when=when, choices=choices,
                 prompt=prompt, width=width, key_items=_items(key_item))


def _count(key: str, header: str, *, unit: str, required: bool = False, prompt: str = "",
           when: When | None = None, maximum: float | None = None, key_item: str | tuple[str, ...] = "") -> Field:
    return Field(key, header, FieldType.INTEGER, required=required, minimum=0, maximum=maximum,
                 unit=unit, prompt=prompt, when=when, width=12, key_items=_items(key_item))


def _amount(key: str, header: str, *, unit: str = "万元", required: bool = False, prompt: str = "") -> Field:
    return Field(key, header, FieldType.NUMBER, required=required, minimum=0, unit=unit, prompt=prompt,
                 width=12)


REGISTERED = When("household_type", REGISTERED_TYPES)
POOR_ONLY = When("household_type", (HOUSEHOLD_POOR,))
EXITED_ONLY = When("household_type", (HOUSEHOLD_EXITED,))
ORDINARY_ONLY = When("household_type", (HOUSEHOLD_ORDINARY,))

BASIC = Sheet(
    key="basic",
    name="基本信息",
    layout=Layout.FORM,
    description="本次督查的基本情况，每项填在 B 列。",
    fields=(
        Field("month", "督查月份", FieldType.MONTH, required=True, prompt="格式 YYYY-MM，如 2019-11"),
        Field("group", "督查组", FieldType.TEXT, required=True, prompt="如：第一督查组"),
        Field("leader", "组长", FieldType.TEXT, required=True),
        Field("members", "成员", FieldType.TEXT, required=True, prompt="多人用顿号“、”隔开"),
        Field("county", "被督查县", FieldType.TEXT, required=True, prompt="县（市、区）全称"),
        Field("county_code", "县级区划代码", FieldType.REGION_CODE, required=True,
              prompt="6 位数字，如 522701", aliases=("县代码", "区划代码")),
        Field("start_date", "督查开始日期", FieldType.DATE, required=True, prompt="须在督查月份内"),
        Field("end_date", "督查结束日期", FieldType.DATE, prompt="须在督查月份内，不早于开始日期"),
        Field("mode", "督查方式", FieldType.CHOICE, required=True, choices=INSPECTION_MODES),
        Field("key_item", "本月重点督查内容", FieldType.CHOICE, required=True, choices=KEY_ITEMS,
              prompt="州督查办当月确定的 1 项重点工作（N 项）"),
        Field("filled_by", "填表人", FieldType.TEXT, required=True),
        Field("phone", "联系电话", FieldType.PHONE, required=True, prompt="11 位手机号或带区号的固定电话"),
    ),
)

SAMPLING = Sheet(
    key="sampling",
    name="抽样",
    layout=Layout.TABLE,
    description="实际抽取的乡镇和村，每村一行：按方案随机抽取 2 个有脱贫任务的乡镇，每个乡镇不少于 1 个村。",
    min_rows=2,
    fields=(
        Field("township", "乡镇", FieldType.TEXT, required=True, width=14),
        Field("township_has_task", "乡镇是否有脱贫任务", FieldType.YES_NO, required=True, choices=(YES, NO),
              width=12),
        Field("village", "村", FieldType.TEXT, required=True, width=14),
        _yes_no("village_is_poor", "是否贫困村", required=True),
        Field("village_code", "村级区划代码", FieldType.TEXT, prompt="12 位统计用区划代码，可不填", width=16),
        Field("draw_method", "抽取方式", FieldType.CHOICE, choices=("随机抽取", "指定"), width=10),
        Field("note", "备注", FieldType.TEXT, width=20),
    ),
)

HOUSEHOLDS = Sheet(
    key="households",
    name="农户调查",
    layout=Layout.TABLE,
    description="入户调查，每户一行。每村 15 户：建档立卡贫困户 5 户、脱贫户 5 户、普通农户 5 户。",
    min_rows=15,
    fields=(
        Field("township", "乡镇", FieldType.TEXT, required=True, width=12),
        Field("village", "村", FieldType.TEXT, required=True, width=12),
        Field("household_type", "户类型", FieldType.CHOICE, required=True, choices=HOUSEHOLD_TYPES, width=16,
              aliases=("农户类型",)),
        Field("head_name", "户主姓名", FieldType.TEXT, required=True, width=10, aliases=("户主",)),
        Field("id_number", "身份证号", FieldType.ID_NUMBER, required=True, width=21,
              prompt="18 位公民身份号码，必须以文本格式输入", aliases=("户主身份证号", "公民身份号码")),
        Field("phone", "联系电话", FieldType.PHONE, width=14),
        Field("household_size", "家庭人口", FieldType.INTEGER, required=True, minimum=1, maximum=20, unit="人",
              width=9),
        Field("wage_income", "工资性收入", FieldType.NUMBER, minimum=0, unit="元", width=11),
        Field("business_income", "家庭经营性收入", FieldType.NUMBER, minimum=0, unit="元", width=11),
        Field("transfer_income", "转移性收入", FieldType.NUMBER, minimum=0, unit="元", width=11),
        Field("property_income", "财产性收入", FieldType.NUMBER, minimum=0, unit="元", width=11),
        Field("business_costs", "生产经营费用", FieldType.NUMBER, minimum=0, unit="元", width=11),
        Field("one_off_income", "其中一次性收入", FieldType.NUMBER, minimum=0, unit="元", width=11,
              prompt="上列收入中一次性补助、赔偿等不可持续的部分（全家合计）"),
        Field("income_per_head", "年人均纯收入", FieldType.NUMBER, required=True, minimum=0, maximum=1_000_000,
              unit="元", width=11, prompt="家庭纯收入 ÷ 家庭人口"),
        Field("identification_standard", "识别标准", FieldType.CHOICE, required=True, when=REGISTERED,
              choices=IDENTIFICATION_STANDARDS, width=9),
        Field("poor_attribute", "贫困户属性", FieldType.CHOICE, required=True, when=REGISTERED,
              choices=POOR_ATTRIBUTES, width=14),
        Field("poverty_cause", "主要致贫原因", FieldType.CHOICE, required=True, when=REGISTERED,
              choices=POVERTY_CAUSES, width=14),
        Field("exit_year", "脱贫年度", FieldType.YEAR, required=True, when=EXITED_ONLY, minimum=2014,
              maximum=2100, width=9, prompt="仅脱贫户填写，如 2018"),
        _yes_no("form_complete", "登记表填写完整", required=True, when=POOR_ONLY),
        _yes_no("publicity_records", "两公示一公告记录齐全", required=True, when=POOR_ONLY, width=12),
        _yes_no("meeting_minutes", "村委会会议记录齐全", required=True, when=POOR_ONLY, width=12),
        _yes_no("category_matches", "登记表类别与实际相符", required=True, when=POOR_ONLY, width=12),
        _yes_no("cause_matches", "登记表致贫原因与实际相符", required=True, when=POOR_ONLY, width=12),
        _yes_no("food_secure", "不愁吃", required=True),
        _yes_no("clothing_secure", "不愁穿", required=True),
        _yes_no("education_secured", "义务教育有保障", required=True, na=True,
                prompt="家中无义务教育阶段子女填“不涉及”"),
        _yes_no("medical_secured", "基本医疗有保障", required=True),
        _yes_no("housing_secured", "住房安全有保障", required=True),
        _yes_no("water_secured", "饮水安全有保障", required=True),
        _yes_no("has_industry", "有增收主导产业", required=True, when=REGISTERED, width=12),
        _yes_no("in_rural_coop_insurance", "参加新农合", required=True),
        _yes_no("in_critical_illness_insurance", "参加大病补充保险", required=True, when=REGISTERED, width=12),
        _count("school_children", "义务教育阶段子女数", unit="人", maximum=15, key_item=N_EDUCATION),
        _yes_no("two_exemptions_one_subsidy", "享受两免一补", when=REGISTERED, na=True, width=12,
                prompt="无义务教育阶段子女填“不涉及”", key_item=N_EDUCATION),
        _yes_no("high_school_aid", "高中阶段免学费及助学金", when=REGISTERED, na=True, width=12,
                prompt="无普通高中在读子女填“不涉及”", key_item=N_EDUCATION),
        _yes_no("dilapidated_house", "住危房", required=True, prompt="住建部门鉴定 C、D 级为危房"),
        _yes_no("minimum_living_eligible", "符合低保或特困供养条件", required=True, width=12),
        _yes_no("minimum_living_received", "已纳入低保或特困供养", required=True, width=12),
        _yes_no("has_help_plan", "有帮扶计划", required=True, when=REGISTERED, key_item=N_STATIONED),
        _yes_no("help_plan_targets_cause", "帮扶计划针对致贫原因", when=REGISTERED, width=12, key_item=N_STATIONED,
                prompt="帮扶计划是否在分析本户致贫原因的基础上制定"),
        _yes_no("has_handbook", "已发放扶贫手册", required=True, when=REGISTERED, width=12, key_item=N_STATIONED),
        Field("helper_name", "帮扶责任人", FieldType.TEXT, required=True, when=REGISTERED, width=10),
        Field("helper_phone", "帮扶责任人电话", FieldType.PHONE, required=True, when=REGISTERED, width=14),
        Field("recognition", "群众认可", FieldType.CHOICE, required=True, choices=RECOGNITION, width=9),
        Field("non_recognition_reason", "不认可原因", FieldType.TEXT, required=True,
              when=When("recognition", ("不认可",)), width=20),
        Field("verdict_accurate", "督查组认定识别是否准确", FieldType.CHOICE, when=POOR_ONLY,
              choices=ACCURACY_VERDICTS, width=12, prompt="督查组判断；填写后优先于自动判定"),
        _yes_no("verdict_wrong_exit", "督查组认定是否错退", when=EXITED_ONLY, width=12,
                prompt="督查组判断；填写后优先于自动判定"),
        _yes_no("verdict_missed", "督查组认定是否漏评", when=ORDINARY_ONLY, width=12,
                prompt="督查组判断；填写后优先于自动判定"),
        Field("note", "备注", FieldType.TEXT, width=24),
    ),
)

VILLAGES = Sheet(
    key="villages",
    name="村级核查",
    layout=Layout.TABLE,
    description="每个被抽查村一行，填写产业扶贫和本月重点督查内容的村级核查结果。",
    min_rows=2,
    fields=(
        Field("township", "乡镇", FieldType.TEXT, required=True, width=12),
        Field("village", "村", FieldType.TEXT, required=True, width=12),
        _yes_no("has_leading_industry", "有脱贫增收主导产业", required=True, width=12),
        Field("leading_industry", "主导产业名称", FieldType.TEXT, required=True,
              when=When("has_leading_industry", (YES,)), width=14),
        _yes_no("has_cooperative", "成立农民专业合作社", required=True, width=12),
        _yes_no("has_village_plan", "有贫困村精准扶贫规划", width=12, key_item=N_STATIONED),
        _yes_no("team_resident", "驻村工作队全脱产常驻", width=12, key_item=N_STATIONED),
        _count("team_months", "驻村时间", unit="月", maximum=120, key_item=N_STATIONED),
        _yes_no("team_ledger", "驻村工作队工作台账齐全", width=12, key_item=N_STATIONED),
        _yes_no("plan_projects_done", "规划和帮扶计划项目已落实", width=12, key_item=N_STATIONED),
        _yes_no("policy_publicised", "扶贫政策宣传到位", width=12, key_item=N_STATIONED),
        _yes_no("has_clinic", "有标准化卫生室", width=12, key_item=N_HEALTH),
        _yes_no("has_doctor", "有合格乡村医生或执业(助理)医师", width=14, key_item=N_HEALTH),
        _yes_no("has_broadband", "通固定宽带", width=10, key_item=N_LIVING),
        _yes_no("has_culture_facility", "有综合文化服务设施", width=12, key_item=N_LIVING),
        _count("natural_villages", "自然村数", unit="个", key_item=N_LIVING),
        _count("natural_villages_powered", "通生产用电自然村数", unit="个", key_item=N_LIVING),
        _yes_no("road_hardened", "通硬化路", width=10, key_item=N_LIVING),
        _yes_no("road_maintained", "道路养护到位", width=10, key_item=N_LIVING),
        _yes_no("has_bus", "通客车", width=10, key_item=N_LIVING),
        Field("note", "备注", FieldType.TEXT, width=24),
    ),
)


def _figure(key: str, header: str, unit: str, *, integer: bool = False, key_item: str | tuple[str, ...] = "") -> Field:
    """A county figure: required for items 2-5 (no key_item), or in the months of its N item."""
    kind = FieldType.INTEGER if integer else FieldType.NUMBER
    return Field(key, header, kind, required=not key_item, minimum=0, unit=unit, width=14,
                 key_items=_items(key_item))


COUNTY = Sheet(
    key="county",
    name="县级核查",
    layout=Layout.FORM,
    has_source_column=True,
    description="县级数据，每项填在 B 列，并在 C 列注明数据来源（如：县扶贫办 2019 年 10 月报表）。",
    fields=(
        _figure("industry_poor_households", "贫困户总户数", "户", integer=True),
        _figure("industry_driven_households", "特色产业带动贫困户数", "户", integer=True),
        _figure("poor_villages", "全县贫困村数", "个", integer=True),
        _figure("poor_villages_with_coop", "成立农民专业合作社的贫困村数", "个", integer=True),
        _figure("relocation_planned", "易地扶贫搬迁计划户数(州下达)", "户", integer=True),
        _figure("relocation_done", "易地扶贫搬迁已完成户数", "户", integer=True),
        _figure("loans_last_year", "金融扶贫贷款余额(上年末)", "万元"),
        _figure("loans_now", "金融扶贫贷款余额(本期)", "万元"),
        _figure("risk_fund_due", "县级风险补偿金应建立", "万元"),
        _figure("risk_fund_in_place", "县级风险补偿金已到位", "万元"),
        _figure("microloan_poor_households", "有贷款需求的贫困户数", "户", integer=True),
        _figure("microloan_households", "获得扶贫小额贷款贫困户数", "户", integer=True),
        _figure("funds_available", "当年可整合资金", "万元"),
        _figure("funds_integrated", "县级已整合资金", "万元"),
        _figure("poor_population", "建档立卡贫困人口数", "人", integer=True, key_item=N_HEALTH),
        _figure("critical_illness_insured", "县财政购买大病补充保险贫困人数", "人", integer=True, key_item=N_HEALTH),
        _figure("rural_coop_insured", "参加新农合贫困人数", "人", integer=True, key_item=N_HEALTH),
        _figure("reimbursement_raise", "贫困户新农合报销比例提高", "百分点", key_item=N_HEALTH),
        _figure("admin_villages", "行政村数", "个", integer=True, key_item=(N_HEALTH, N_LIVING)),
        _figure("admin_villages_with_clinic", "有标准化卫生室行政村数", "个", integer=True, key_item=N_HEALTH),
        _figure("admin_villages_with_doctor", "有合格乡村医生或执业(助理)医师行政村数", "个", integer=True,
                key_item=N_HEALTH),
        _figure("compulsory_students", "贫困家庭义务教育阶段学生数", "人", integer=True, key_item=N_EDUCATION),
        _figure("compulsory_students_aided", "享受两免一补学生数", "人", integer=True, key_item=N_EDUCATION),
        _figure("high_school_students", "贫困家庭普通高中学生数", "人", integer=True, key_item=N_EDUCATION),
        _figure("high_school_students_aided", "享受免学费及助学金学生数", "人", integer=True, key_item=N_EDUCATION),
        _figure("new_labour", "贫困人口当年新成长劳动力", "人", integer=True, key_item=N_EDUCATION),
        _figure("new_labour_trained", "参加职业教育技能培训人数", "人", integer=True, key_item=N_EDUCATION),
        _figure("water_problem_population", "饮水安全问题贫困人口数(年初)", "人", integer=True, key_item=N_LIVING),
        _figure("water_solved_population", "本年已解决饮水安全问题人数", "人", integer=True, key_item=N_LIVING),
        _figure("total_population", "农村总人口", "人", integer=True, key_item=N_LIVING),
        _figure("broadband_population", "固定宽带覆盖人口", "人", integer=True, key_item=N_LIVING),
        _figure("dilapidated_last_year", "住危房贫困户数(上年末)", "户", integer=True, key_item=N_LIVING),
        _figure("dilapidated_now", "住危房贫困户数(本期)", "户", integer=True, key_item=N_LIVING),
        _figure("natural_villages", "自然村数", "个", integer=True, key_item=N_LIVING),
        _figure("natural_villages_powered", "通生产用电自然村数", "个", integer=True, key_item=N_LIVING),
        _figure("admin_villages_road", "通硬化路行政村数", "个", integer=True, key_item=N_LIVING),
        _figure("admin_villages_bus_last_year", "通客车行政村数(上年末)", "个", integer=True, key_item=N_LIVING),
        _figure("admin_villages_bus_now", "通客车行政村数(本期)", "个", integer=True, key_item=N_LIVING),
        _figure("minimum_living_eligible", "应纳入低保或特困供养人数", "人", integer=True, key_item=N_SECURITY),
        _figure("minimum_living_covered", "已纳入低保或特困供养人数", "人", integer=True, key_item=N_SECURITY),
    ),
)

INTERVIEWS = Sheet(
    key="interviews",
    name="访谈记录",
    layout=Layout.TABLE,
    description="每村访谈乡村干部不少于 2 人，电话随机抽查帮扶干部不少于 2 人，每人一行。",
    min_rows=4,
    fields=(
        Field("township", "乡镇", FieldType.TEXT, required=True, width=12),
        Field("village", "村", FieldType.TEXT, required=True, width=12),
        Field("kind", "访谈类型", FieldType.CHOICE, required=True, choices=INTERVIEW_KINDS, width=18),
        Field("name", "姓名", FieldType.TEXT, required=True, width=10),
        Field("position", "职务或单位", FieldType.TEXT, required=True, width=16),
        Field("phone", "联系电话", FieldType.PHONE, required=True, when=When("kind", ("帮扶干部电话抽查",)),
              width=14),
        _yes_no("reached", "是否接通", required=True, when=When("kind", ("帮扶干部电话抽查",))),
        _yes_no("knows_households", "熟悉帮扶户情况", required=True, width=12),
        Field("result", "访谈结果", FieldType.TEXT, required=True, width=30),
        Field("note", "备注", FieldType.TEXT, width=20),
    ),
)

PARAMETERS = Sheet(
    key="parameters",
    name="参数",
    layout=Layout.TABLE,
    optional=True,
    description="扶贫标准、考核阈值和判定设置，可由州督查办修改；修改后请改「参数版本」。",
    fields=(
        Field("category", "类别", FieldType.CHOICE, required=True, choices=("扶贫标准", "阈值", "设置"), width=10),
        Field("name", "名称", FieldType.TEXT, required=True, width=22),
        Field("year", "年度", FieldType.YEAR, required=True, when=When("category", ("扶贫标准",)),
              minimum=2000, maximum=2100, width=8),
        Field("value", "数值", FieldType.NUMBER, required=True, when=When("category", ("扶贫标准", "阈值")),
              minimum=0, width=10),
        Field("scope", "口径", FieldType.CHOICE, required=True, when=When("category", ("扶贫标准",)),
              choices=LINE_SCOPES, width=8),
        Field("source", "来源或说明", FieldType.TEXT, width=40),
        Field("option", "选项", FieldType.TEXT, when=When("category", ("设置",)), width=12,
              prompt="“设置”行填写：口径填国家或地方，是否项填是或否；不填按默认"),
    ),
)

REVISIT_DONE, REVISIT_NOT_DONE = "整改到位", "未整改到位"
REVISIT = Sheet(
    key="revisit",
    name="回访",
    layout=Layout.TABLE,
    optional=True,
    description="上月问题台账中本县未结的问题，由 ducha 抽样时列出；督查组逐条回访核实后填写回访结果。",
    fields=(
        Field("entry_id", "台账编号", FieldType.TEXT, required=True, width=22, prompt="ducha 生成，请勿修改"),
        Field("township", "乡镇", FieldType.TEXT, width=12),
        Field("village", "村", FieldType.TEXT, width=12),
        Field("household", "农户", FieldType.TEXT, width=12),
        Field("problem", "问题", FieldType.TEXT, required=True, width=36),
        Field("requirement", "整改要求", FieldType.TEXT, width=30),
        Field("deadline", "整改期限", FieldType.DATE, width=12),
        Field("result", "回访结果", FieldType.CHOICE, required=True, choices=(REVISIT_DONE, REVISIT_NOT_DONE),
              width=12),
        Field("note", "回访说明", FieldType.TEXT, required=True, when=When("result", (REVISIT_NOT_DONE,)), width=30,
              prompt="未整改到位的，写明核实到的情况"),
        Field("revisit_date", "回访日期", FieldType.DATE, width=12),
    ),
)

@dataclass(frozen=True)
class AnswerConflict:
    """Two 农户调查 answers that contradict each other: `detail` = `detail_value` with `guarantee` = `claimed`.

    Believing the detail answer would make the guarantee `implied` (e.g. not enrolled in 新农合: medical not secured).
    """

    guarantee: str
    detail: str
    detail_value: Any
    claimed: str
    implied: str
    code: str  # the finding code's name in model.findings.Code


ANSWER_CONFLICTS = (
    AnswerConflict("medical_secured", "in_rural_coop_insurance", NO, YES, NO, "ANSWER_CONFLICT_MEDICAL"),
    AnswerConflict("housing_secured", "dilapidated_house", YES, YES, NO, "ANSWER_CONFLICT_HOUSING"),
    AnswerConflict("education_secured", "school_children", 0, NO, NOT_APPLICABLE, "ANSWER_CONFLICT_EDUCATION"),
)


def conflicting_answers(rec: Any) -> list[AnswerConflict]:
    """The answer conflicts of one household record (a mapping of field key -> value)."""
    return [c for c in ANSWER_CONFLICTS if rec.get(c.detail) is not None and rec.get(c.detail) == c.detail_value
            and rec.get(c.guarantee) == c.claimed]


INPUT_SHEETS: tuple[Sheet, ...] = (BASIC, SAMPLING, HOUSEHOLDS, VILLAGES, COUNTY, INTERVIEWS, PARAMETERS, REVISIT)
INSTRUCTIONS_SHEET = "说明"

# Sheets ducha generates; they are recreated on every run and never hold clerk input.
CHECK_RESULTS_SHEET = "检查结果"
SCORE_SHEET = "评分"
FOLLOW_UP_SHEET = "跟进清单"
EVIDENCE_SHEET = "判定明细"
VILLAGE_EVIDENCE_SHEET = "村级明细"
GENERATED_SHEETS: tuple[str, ...] = (CHECK_RESULTS_SHEET, SCORE_SHEET, FOLLOW_UP_SHEET, EVIDENCE_SHEET,
                                     VILLAGE_EVIDENCE_SHEET)

SHEETS_BY_KEY = {s.key: s for s in INPUT_SHEETS}


def schema_as_dict() -> dict[str, Any]:
    """The schema as plain data (for `ducha schema` and documentation)."""

    def field_dict(sheet: Sheet, f: Field) -> dict[str, Any]:
        d: dict[str, Any] = {"key": f.key, "header": f.header, "label": f.label(), "type": f.type.value,
                             "required": f.required}
        if f.when:
            d["applies_when"] = {"field": f.when.field, "values": list(f.when.values),
                                 "text": f.when.describe(sheet.headers())}
        if f.choices:
            d["choices"] = list(f.choices)
        if f.minimum is not None:
            d["minimum"] = f.minimum
        if f.maximum is not None:
            d["maximum"] = f.maximum
        if f.unit:
            d["unit"] = f.unit
        if f.prompt:
            d["prompt"] = f.prompt
        if f.aliases:
            d["aliases"] = list(f.aliases)
        return d

    return {
        "workbook": "精准扶贫专题督查工作簿",
        "sheets": [
            {
                "key": s.key,
                "name": s.name,
                "layout": s.layout.value,
                "description": s.description,
                "min_rows": s.min_rows,
                "fields": [field_dict(s, f) for f in s.fields],
            }
            for s in INPUT_SHEETS
        ],
        "generated_sheets": list(GENERATED_SHEETS),
    }

