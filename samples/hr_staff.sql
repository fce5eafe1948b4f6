-- Seed data for the PostgreSQL sample (importer-postgres.yaml): the same
-- staff as staff.csv, in an HR schema with typed columns, and the view the
-- importer reads. The view renames columns to the headers the sample
-- mapping uses, so one mapping serves the CSV, the workbook and the view.
--
--   psql "$HR_DATABASE_URL" -f samples/hr_staff.sql
--
-- The importer only ever reads the view, in a read-only transaction; a
-- read-only role is all it needs:
--
--   CREATE ROLE hrfeed LOGIN PASSWORD '...';
--   GRANT USAGE ON SCHEMA hr TO hrfeed;
--   GRANT SELECT ON hr.staff_v TO hrfeed;

CREATE SCHEMA IF NOT EXISTS hr;

CREATE TABLE IF NOT EXISTS hr.employee (
	emp_no     text PRIMARY KEY,
	name       text NOT NULL,
	mobile     bigint,
	email      text,
	dept_path  text NOT NULL,
	title      text,
	gender     text CHECK (gender IN ('男', '女')),
	on_staff   boolean NOT NULL DEFAULT true,
	leader     text,
	hired_on   date
);

INSERT INTO hr.employee (emp_no, name, mobile, email, dept_path, title, gender, on_staff, leader) VALUES
	('E1001', '王建国', 13800138001, 'wangjianguo@example.com', '总部', '总经理', '男', true, NULL),
	('E1002', '李秀英', 13800138002, 'lixiuying@example.com', '总部/人力资源部', '人力资源总监', '女', true, 'E1001'),
	('E1003', '张伟', 13800138003, 'zhangwei@example.com', '总部/人力资源部', '招聘专员', '男', true, 'E1002'),
	('E1004', '刘芳', 13800138004, 'liufang@example.com', '总部/人力资源部', '薪酬专员', '女', true, 'E1002'),
	('E1005', '陈明', 13800138005, 'chenming@example.com', '总部/财务部', '财务总监', '男', true, 'E1001'),
	('E1006', '杨静', 13800138006, 'yangjing@example.com', '总部/财务部', '会计', '女', true, 'E1005'),
	('E1007', '赵磊', 13800138007, 'zhaolei@example.com', '总部/财务部', '出纳', '男', true, 'E1005'),
	('E1008', '黄丽', 13800138008, 'huangli@example.com', '总部/研发中心', '研发总监', '女', true, 'E1001'),
	('E1009', '周杰', 13800138009, 'zhoujie@example.com', '总部/研发中心/后端组', '后端组长', '男', true, 'E1008'),
	('E1010', '吴敏', 13800138010, 'wumin@example.com', '总部/研发中心/后端组', '高级工程师', '女', true, 'E1009'),
	('E1011', '徐强', 13800138011, 'xuqiang@example.com', '总部/研发中心/后端组', '工程师', '男', true, 'E1009'),
	('E1012', '孙燕', 13800138012, 'sunyan@example.com', '总部/研发中心/后端组', '工程师', '女', true, 'E1009'),
	('E1013', '马超', 13800138013, 'machao@example.com', '总部/研发中心/前端组', '前端组长', '男', true, 'E1008'),
	('E1014', '朱琳', 13800138014, 'zhulin@example.com', '总部/研发中心/前端组', '工程师', '女', true, 'E1013'),
	('E1015', '胡军', 13800138015, 'hujun@example.com', '总部/研发中心/前端组', '工程师', '男', true, 'E1013'),
	('E1016', '郭婷', 13800138016, 'guoting@example.com', '总部/研发中心/测试组', '测试组长', '女', true, 'E1008'),
	('E1017', '何勇', 13800138017, 'heyong@example.com', '总部/研发中心/测试组', '测试工程师', '男', true, 'E1016'),
	('E1018', '高洁', 13800138018, 'gaojie@example.com', '总部/研发中心/测试组', '测试工程师', '女', true, 'E1016'),
	('E1019', '林涛', 13800138019, 'lintao@example.com', '总部/销售部', '销售总监', '男', true, 'E1001'),
	('E1020', '罗娜', 13800138020, 'luona@example.com', '总部/销售部/华东区', '区域经理', '女', true, 'E1019'),
	('E1021', '郑浩', 13800138021, 'zhenghao@example.com', '总部/销售部/华东区', '销售代表', '男', true, 'E1020'),
	('E1022', '梁雪', 13800138022, 'liangxue@example.com', '总部/销售部/华东区', '销售代表', '女', true, 'E1020'),
	('E1023', '谢斌', 13800138023, 'xiebin@example.com', '总部/销售部/华南区', '区域经理', '男', true, 'E1019'),
	('E1024', '宋佳', 13800138024, 'songjia@example.com', '总部/销售部/华南区', '销售代表', '女', true, 'E1023'),
	('E1025', '唐亮', 13800138025, 'tangliang@example.com', '总部/销售部/华南区', '销售代表', '男', true, 'E1023'),
	('E1026', '韩梅', 13800138026, 'hanmei@example.com', '总部/销售部/华北区', '区域经理', '女', true, 'E1019'),
	('E1027', '冯刚', 13800138027, 'fenggang@example.com', '总部/销售部/华北区', '销售代表', '男', true, 'E1026'),
	('E1028', '曹颖', 13800138028, 'caoying@example.com', '总部/行政部', '行政主管', '女', true, 'E1001'),
	('E1029', '彭飞', 13800138029, 'pengfei@example.com', '总部/行政部', '前台', '男', true, 'E1028'),
	('E1030', '曾琪', 13800138030, 'zengqi@example.com', '总部/行政部', '司机', '女', false, 'E1028')
ON CONFLICT (emp_no) DO NOTHING;

CREATE OR REPLACE VIEW hr.staff_v AS
SELECT
	emp_no    AS "工号",
	name      AS "姓名",
	mobile    AS "手机",
	email     AS "邮箱",
	dept_path AS "部门",
	title     AS "职位",
	gender    AS "性别",
	CASE WHEN on_staff THEN '在职' ELSE '离职' END AS "状态",
	leader    AS "直属上级",
	hired_on  AS "入职日期"
FROM hr.employee;
