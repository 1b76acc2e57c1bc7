# rpm %postun -- pxeimagesfs: on upgrade ($1 >= 1), restart the views that run.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -ge 1 ]; then
		systemctl try-restart 'pxeimagesfs.service' 'pxeimagesfs@*.service' >/dev/null 2>&1 || :
	fi
fi
# erase ($1 = 0): the CTDB event script's enable link names a script that is gone
link=/etc/ctdb/events/legacy/47.pxeimagesfs.script
if [ "$1" -eq 0 ] && [ -L "$link" ] &&
	[ "$(readlink "$link")" = /usr/share/ctdb/events/legacy/47.pxeimagesfs.script ]; then
	rm -f "$link"
fi
