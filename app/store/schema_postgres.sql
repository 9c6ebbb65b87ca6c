CREATE TABLE IF NOT EXISTS store_meta (
	key TEXT COLLATE "C" NOT NULL, 
	value TEXT COLLATE "C" NOT NULL, 
	PRIMARY KEY (key)
);
CREATE TABLE IF NOT EXISTS account (
	uuid TEXT COLLATE "C" NOT NULL, 
	name TEXT COLLATE "C" NOT NULL, 
	description TEXT COLLATE "C", 
	type TEXT COLLATE "C" NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_op_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	password_sha512 TEXT COLLATE "C" NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_account_name ON account (name);
CREATE TABLE IF NOT EXISTS session (
	uuid TEXT COLLATE "C" NOT NULL, 
	account_uuid TEXT COLLATE "C" NOT NULL, 
	user_uuid TEXT COLLATE "C" NOT NULL, 
	expired_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE TABLE IF NOT EXISTS backup_storage (
	uuid TEXT COLLATE "C" NOT NULL, 
	name TEXT COLLATE "C" NOT NULL, 
	url TEXT COLLATE "C" NOT NULL, 
	description TEXT COLLATE "C", 
	total_capacity BIGINT NOT NULL, 
	available_capacity BIGINT NOT NULL, 
	type TEXT COLLATE "C" NOT NULL, 
	state TEXT COLLATE "C" NOT NULL, 
	status TEXT COLLATE "C" NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_op_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	hostname TEXT COLLATE "C" NOT NULL, 
	username TEXT COLLATE "C" NOT NULL, 
	ssh_port BIGINT NOT NULL, 
	attached_zone_uuids TEXT COLLATE "C" NOT NULL, 
	account_uuid TEXT COLLATE "C" NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE INDEX IF NOT EXISTS ix_backup_storage_account_uuid ON backup_storage (account_uuid);
CREATE TABLE IF NOT EXISTS volume_backup (
	uuid TEXT COLLATE "C" NOT NULL, 
	volume_uuid TEXT COLLATE "C", 
	name TEXT COLLATE "C" NOT NULL, 
	description TEXT COLLATE "C", 
	type TEXT COLLATE "C" NOT NULL, 
	state TEXT COLLATE "C" NOT NULL, 
	status TEXT COLLATE "C" NOT NULL, 
	size BIGINT NOT NULL, 
	metadata_json TEXT COLLATE "C", 
	group_uuid TEXT COLLATE "C", 
	mode TEXT COLLATE "C" NOT NULL, 
	vm_instance_uuid TEXT COLLATE "C", 
	hypervisor_type TEXT COLLATE "C", 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_op_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	account_uuid TEXT COLLATE "C" NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE INDEX IF NOT EXISTS ix_volume_backup_account_uuid ON volume_backup (account_uuid);
CREATE INDEX IF NOT EXISTS ix_volume_backup_create_date ON volume_backup (create_date);
CREATE TABLE IF NOT EXISTS volume_backup_storage_ref (
	volume_backup_uuid TEXT COLLATE "C" NOT NULL, 
	backup_storage_uuid TEXT COLLATE "C" NOT NULL, 
	install_path TEXT COLLATE "C" NOT NULL, 
	status TEXT COLLATE "C" NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_op_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (volume_backup_uuid, backup_storage_uuid)
);
CREATE INDEX IF NOT EXISTS ix_volume_backup_storage_ref_backup_storage_uuid ON volume_backup_storage_ref (backup_storage_uuid);
CREATE TABLE IF NOT EXISTS tag_pattern (
	uuid TEXT COLLATE "C" NOT NULL, 
	name TEXT COLLATE "C" NOT NULL, 
	value TEXT COLLATE "C" NOT NULL, 
	description TEXT COLLATE "C", 
	color TEXT COLLATE "C", 
	type TEXT COLLATE "C" NOT NULL, 
	account_uuid TEXT COLLATE "C" NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_op_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE INDEX IF NOT EXISTS ix_tag_pattern_account_uuid ON tag_pattern (account_uuid);
CREATE TABLE IF NOT EXISTS image (
	uuid TEXT COLLATE "C" NOT NULL, 
	name TEXT COLLATE "C" NOT NULL, 
	description TEXT COLLATE "C", 
	state TEXT COLLATE "C" NOT NULL, 
	status TEXT COLLATE "C" NOT NULL, 
	size BIGINT NOT NULL, 
	actual_size BIGINT NOT NULL, 
	md5_sum TEXT COLLATE "C", 
	url TEXT COLLATE "C", 
	media_type TEXT COLLATE "C" NOT NULL, 
	guest_os_type TEXT COLLATE "C", 
	type TEXT COLLATE "C" NOT NULL, 
	platform TEXT COLLATE "C", 
	architecture TEXT COLLATE "C", 
	format TEXT COLLATE "C" NOT NULL, 
	system BOOLEAN NOT NULL, 
	virtio BOOLEAN, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_op_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	account_uuid TEXT COLLATE "C" NOT NULL, 
	PRIMARY KEY (uuid)
);
CREATE INDEX IF NOT EXISTS ix_image_account_uuid ON image (account_uuid);
CREATE INDEX IF NOT EXISTS ix_image_create_date ON image (create_date);
CREATE INDEX IF NOT EXISTS ix_image_status_platform ON image (status, platform, create_date);
CREATE TABLE IF NOT EXISTS image_backup_storage_ref (
	id BIGINT NOT NULL, 
	image_uuid TEXT COLLATE "C" NOT NULL, 
	backup_storage_uuid TEXT COLLATE "C" NOT NULL, 
	install_path TEXT COLLATE "C" NOT NULL, 
	export_url TEXT COLLATE "C", 
	export_md5_sum TEXT COLLATE "C", 
	status TEXT COLLATE "C" NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_op_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_image_backup_storage_ref_image_uuid ON image_backup_storage_ref (image_uuid);
CREATE TABLE IF NOT EXISTS image_tag (
	image_uuid TEXT COLLATE "C" NOT NULL, 
	tag_uuid TEXT COLLATE "C" NOT NULL, 
	PRIMARY KEY (image_uuid, tag_uuid)
);
CREATE TABLE IF NOT EXISTS api_job (
	uuid TEXT COLLATE "C" NOT NULL, 
	api TEXT COLLATE "C" NOT NULL, 
	protocol TEXT COLLATE "C" NOT NULL, 
	status TEXT COLLATE "C" NOT NULL, 
	account_uuid TEXT COLLATE "C", 
	resource_uuid TEXT COLLATE "C", 
	planned_error_json TEXT COLLATE "C", 
	planned_error_class TEXT COLLATE "C", 
	result_class TEXT COLLATE "C", 
	result_json TEXT COLLATE "C", 
	json_schema BOOLEAN NOT NULL, 
	webhook_url TEXT COLLATE "C", 
	api_timeout_ms BIGINT NOT NULL, 
	held BOOLEAN NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	due_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	deadline_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	finish_date TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (uuid)
);
CREATE INDEX IF NOT EXISTS ix_api_job_status_due_date ON api_job (status, due_date);
CREATE TABLE IF NOT EXISTS webhook_delivery (
	job_uuid TEXT COLLATE "C" NOT NULL, 
	url TEXT COLLATE "C" NOT NULL, 
	status TEXT COLLATE "C" NOT NULL, 
	attempts BIGINT NOT NULL, 
	next_date TIMESTAMP WITH TIME ZONE, 
	last_error TEXT COLLATE "C", 
	PRIMARY KEY (job_uuid)
);
CREATE INDEX IF NOT EXISTS ix_webhook_delivery_status_next_date ON webhook_delivery (status, next_date);
CREATE TABLE IF NOT EXISTS journal_entry (
	id BIGINT NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	method TEXT COLLATE "C" NOT NULL, 
	path TEXT COLLATE "C" NOT NULL, 
	query TEXT COLLATE "C" NOT NULL, 
	headers_json TEXT COLLATE "C" NOT NULL, 
	body TEXT COLLATE "C" NOT NULL, 
	body_size BIGINT NOT NULL, 
	body_truncated BOOLEAN NOT NULL, 
	operation TEXT COLLATE "C", 
	session_uuid TEXT COLLATE "C", 
	status BIGINT, 
	verdict TEXT COLLATE "C", 
	error_code TEXT COLLATE "C", 
	error_details TEXT COLLATE "C", 
	fault TEXT COLLATE "C", 
	duration_ms FLOAT NOT NULL, 
	job_uuid TEXT COLLATE "C", 
	PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS fault_rule (
	id BIGINT NOT NULL, 
	name TEXT COLLATE "C", 
	spec_json TEXT COLLATE "C" NOT NULL, 
	matched BIGINT NOT NULL, 
	fired BIGINT NOT NULL, 
	spent BOOLEAN NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	expire_date TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS fault_counter (
	key TEXT COLLATE "C" NOT NULL, 
	count BIGINT NOT NULL, 
	PRIMARY KEY (key)
);
CREATE TABLE IF NOT EXISTS snapshot (
	name TEXT COLLATE "C" NOT NULL, 
	create_date TIMESTAMP WITH TIME ZONE NOT NULL, 
	payload TEXT COLLATE "C" NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE IF NOT EXISTS store_data_version (
	id INTEGER NOT NULL, 
	version BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO store_data_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
