# rpm %postun -- pxeimagesfs: on upgrade ($1 >= 1), restart the views that run.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -ge 1 ]; then
		systemctl try-restart 'pxeimagesfs.service' 'pxeimagesfs@*.service' >/dev/null 2>&1 || :
	fi
fi
